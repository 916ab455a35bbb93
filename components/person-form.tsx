"use client";

import { useActionState } from "react";
import { useFormStatus } from "react-dom";
import type { ActionResult } from "@/lib/server/action";

type Action = (prev: unknown, form: FormData) => Promise<ActionResult<{ username: string; person: string | null }>>;

function Save() {
  const { pending } = useFormStatus();
  return (
    <button type="submit" className="btn" disabled={pending}>
      {pending ? "Saving…" : "Save person"}
    </button>
  );
}

/**
 * The admin's form for the person (full name or email) behind an account: the two-person rule treats
 * accounts of one person as one. Empty means the username stands for the person.
 */
export function PersonForm({ usernames, action }: { usernames: string[]; action: Action }) {
  const [state, formAction] = useActionState(action, null);
  const fe = state && !state.ok ? state.fieldErrors : undefined;
  return (
    <form action={formAction} className="form-card">
      <div className="field">
        <label htmlFor="person-account">Account</label>
        <select id="person-account" name="username" defaultValue={state?.ok ? state.data.username : undefined}>
          {usernames.map((u) => (
            <option key={u} value={u}>
              {u}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="person-name">Person (full name or email)</label>
        <input
          id="person-name"
          name="person"
          maxLength={200}
          autoComplete="off"
          aria-invalid={fe?.person ? true : undefined}
          aria-describedby={fe?.person ? "person-name-error" : "person-name-hint"}
        />
        <p id="person-name-hint" className="hint">
          Empty: the username stands for the person.
        </p>
        {fe?.person ? (
          <p id="person-name-error" className="field-error">
            {fe.person.join(" ")}
          </p>
        ) : null}
      </div>
      {/* A live region without the status role: the account form beside it owns the page's status. */}
      <p aria-live="polite" className={state ? (state.ok ? "form-ok" : "form-error") : "sr-only"}>
        {state
          ? state.ok
            ? `${state.data.username} is now ${state.data.person ?? "their username"} for the two-person rule.`
            : state.error
          : ""}
      </p>
      <Save />
    </form>
  );
}
