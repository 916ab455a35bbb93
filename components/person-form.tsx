"use client";

import { useActionState } from "react";
import { useFormStatus } from "react-dom";
import type { ActionResult } from "@/lib/server/action";
import "./approvals.css";

type Action = (prev: unknown, form: FormData) => Promise<ActionResult<{ username: string; person: string | null }>>;

function Save({ username }: { username: string }) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" className="btn" disabled={pending} aria-label={`Save the person behind ${username}`}>
      {pending ? "Saving…" : "Save"}
    </button>
  );
}

/** The person (full name or email) behind one account, for the two-person rule; empty means the username. */
export function PersonForm({ username, person, action }: { username: string; person: string | null; action: Action }) {
  const [state, formAction] = useActionState(action, null);
  const id = `person-${username}`;
  const error = state && !state.ok ? (state.fieldErrors?.person?.join(" ") ?? state.error) : null;
  return (
    <form action={formAction} className="person-form">
      <input type="hidden" name="username" value={username} />
      <label htmlFor={id} className="sr-only">
        Person behind {username}
      </label>
      <input
        id={id}
        name="person"
        defaultValue={state?.ok ? (state.data.person ?? "") : (person ?? "")}
        placeholder={username}
        maxLength={200}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-status` : undefined}
      />
      <Save username={username} />
      <span id={`${id}-status`} role="status" aria-live="polite" className={error ? "form-error" : state?.ok ? "form-ok" : "sr-only"}>
        {error ?? (state?.ok ? "Saved." : "")}
      </span>
    </form>
  );
}
