"use client";

import { useActionState } from "react";
import { useFormStatus } from "react-dom";
import type { ActionResult } from "@/lib/server/action";
import { kept, keptAll } from "@/lib/views/form-values";
import { Field } from "./form-field";

type Action = (prev: unknown, form: FormData) => Promise<ActionResult<{ username: string }>>;

function Submit() {
  const { pending } = useFormStatus();
  return (
    <button type="submit" className="btn btn-primary" disabled={pending}>
      {pending ? "Creating…" : "Create account"}
    </button>
  );
}

/** The admin's form for a new account and its roles. */
export function CreateUserForm({ action, roles }: { action: Action; roles: readonly string[] }) {
  const [state, formAction] = useActionState(action, null);
  const fe = state && !state.ok ? state.fieldErrors : undefined;
  // After a refusal the form shows again what was typed (never the password): React resets it otherwise.
  const typed = state && !state.ok ? state.values : undefined;
  const checked = keptAll(typed, "role");
  return (
    <form action={formAction} className="form-card" key={state?.ok ? state.data.username : "new"}>
      <Field name="username" label="Username" autoComplete="off" errors={fe?.username} defaultValue={kept(typed, "username")} />
      <Field name="password" label="Initial password" type="password" autoComplete="new-password" errors={fe?.password} />
      <fieldset className="field role-choices" aria-describedby={fe?.role ? "new-role-error" : undefined}>
        <legend>Roles</legend>
        {roles.map((r) => (
          <label key={`${r}-${checked.includes(r)}`}>
            <input type="checkbox" name="role" value={r} defaultChecked={checked.includes(r)} /> {r}
          </label>
        ))}
        {fe?.role ? (
          <p id="new-role-error" className="field-error">
            {fe.role.join(" ")}
          </p>
        ) : null}
      </fieldset>
      <p aria-live="polite" role="status" className={state ? (state.ok ? "form-ok" : "form-error") : "sr-only"}>
        {state ? (state.ok ? `Created ${state.data.username}.` : state.error) : ""}
      </p>
      <Submit />
    </form>
  );
}
