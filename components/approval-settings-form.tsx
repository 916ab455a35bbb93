"use client";

import { useActionState } from "react";
import { useFormStatus } from "react-dom";
import type { ActionResult } from "@/lib/server/action";

type Action = (prev: unknown, form: FormData) => Promise<ActionResult<{ changed: string[] }>>;

export interface SettingField {
  key: "approvals" | "approvalTtlHours" | "emergencyRollbackMinutes";
  label: string;
  value: string;
  /** Set by the environment: shown, not editable. */
  pinnedBy: string | null;
}

function Save() {
  const { pending } = useFormStatus();
  return (
    <button type="submit" className="btn btn-primary" disabled={pending}>
      {pending ? "Saving…" : "Save settings"}
    </button>
  );
}

/** The admin's form for the two-person rule; a pinned setting shows its environment variable instead of an input. */
export function ApprovalSettingsForm({ action, fields }: { action: Action; fields: SettingField[] }) {
  const [state, formAction] = useActionState(action, null);
  const fe = state && !state.ok ? state.fieldErrors : undefined;
  return (
    // Keyed by the values in force: after a save the fields show what the server now holds.
    <form action={formAction} className="settings-form" key={fields.map((f) => f.value).join("|")}>
      {fields.map((f) => {
        const id = `setting-${f.key}`;
        const errors = fe?.[f.key];
        const described = [f.pinnedBy ? `${id}-pinned` : null, errors ? `${id}-error` : null].filter(Boolean).join(" ") || undefined;
        return (
          <div className="field" key={f.key}>
            <label htmlFor={id}>{f.label}</label>
            {f.key === "approvals" ? (
              <select id={id} name={f.key} defaultValue={f.value} disabled={f.pinnedBy !== null} aria-describedby={described}>
                <option value="off">off: a releaser promotes alone</option>
                <option value="required">required: a second releaser approves</option>
              </select>
            ) : (
              <input
                id={id}
                name={f.key}
                inputMode="numeric"
                defaultValue={f.value}
                disabled={f.pinnedBy !== null}
                aria-invalid={errors ? true : undefined}
                aria-describedby={described}
              />
            )}
            {f.pinnedBy ? (
              <p id={`${id}-pinned`} className="hint">
                Pinned by {f.pinnedBy} in the server's environment.
              </p>
            ) : null}
            {errors ? (
              <p id={`${id}-error`} className="field-error">
                {errors.join(" ")}
              </p>
            ) : null}
          </div>
        );
      })}
      <p aria-live="polite" role="status" className={state ? (state.ok ? "form-ok" : "form-error") : "sr-only"}>
        {state
          ? state.ok
            ? state.data.changed.length
              ? "Saved: the change is in the audit log."
              : "Nothing changed."
            : state.error
          : ""}
      </p>
      <Save />
    </form>
  );
}
