"use client";

import { useActionState, useState } from "react";
import { useFormStatus } from "react-dom";
import type { ActionResult } from "@/lib/server/action";

type Action = (prev: unknown, form: FormData) => Promise<ActionResult<{ changed: string[] }>>;

function Save() {
  const { pending } = useFormStatus();
  return (
    <button type="submit" className="btn btn-primary" disabled={pending}>
      {pending ? "Saving…" : "Save"}
    </button>
  );
}

/** The admin's choice for the load-and-predict check; pinned by the environment, it is shown and not editable. */
export function LoadCheckSettingForm({ action, value, pinnedBy }: { action: Action; value: string; pinnedBy: string | null }) {
  const [state, formAction] = useActionState(action, null);
  // Controlled, so the choice and the "Saved" message both stay on screen when the page refreshes after a save.
  const [chosen, setChosen] = useState(value);
  const id = "setting-loadCheck";
  const described = [pinnedBy ? `${id}-pinned` : null, `${id}-hint`].filter(Boolean).join(" ");
  return (
    <form action={formAction} className="settings-form" aria-label="Load-and-predict check">
      <div className="field">
        <label htmlFor={id}>Load-and-predict check</label>
        <select
          id={id}
          name="loadCheck"
          value={chosen}
          onChange={(e) => setChosen(e.target.value)}
          disabled={pinnedBy !== null}
          aria-describedby={described}
        >
          <option value="on">on: a check that could not run is shown in amber and does not block</option>
          <option value="required">required: a check that could not run blocks a promotion</option>
          <option value="off">off: models are never loaded</option>
        </select>
        <p id={`${id}-hint`} className="hint">
          A failed check (the model does not load or predict) blocks in either mode unless overridden with a reason.
        </p>
        {pinnedBy ? (
          <p id={`${id}-pinned`} className="hint">
            Pinned by {pinnedBy} in the server's environment.
          </p>
        ) : null}
      </div>
      <p aria-live="polite" role="status" className={state ? (state.ok ? "form-ok" : "form-error") : "sr-only"}>
        {state
          ? state.ok
            ? state.data.changed.length
              ? "Saved: the change is in the audit log."
              : "Nothing changed."
            : state.error
          : ""}
      </p>
      {pinnedBy ? null : <Save />}
    </form>
  );
}
