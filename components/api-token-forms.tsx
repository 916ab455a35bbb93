"use client";

import { useActionState } from "react";
import { useFormStatus } from "react-dom";
import type { ActionResult } from "@/lib/server/action";
import { kept } from "@/lib/views/form-values";
import { Field } from "./form-field";

type Created = { id: number; name: string; role: string; token: string; expiresAt: string };
type Action<T> = (prev: unknown, form: FormData) => Promise<ActionResult<T>>;

function Submit({ children, busy, danger = false }: { children: string; busy: string; danger?: boolean }) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" className={`btn ${danger ? "btn-danger" : "btn-primary"}`} disabled={pending}>
      {pending ? busy : children}
    </button>
  );
}

/** The admin's form for a new API token; the token is shown here once, after it was created. */
export function CreateTokenForm({ action, roles }: { action: Action<Created>; roles: readonly string[] }) {
  const [state, formAction] = useActionState(action, null);
  const fe = state && !state.ok ? state.fieldErrors : undefined;
  const typed = state && !state.ok ? state.values : undefined;
  const role = kept(typed, "role") ?? "viewer";
  return (
    <form action={formAction} className="form-card" key={state?.ok ? state.data.id : "new"}>
      <Field
        name="name"
        label="Name"
        autoComplete="off"
        errors={fe?.name}
        defaultValue={kept(typed, "name")}
        hint="e.g. ci-deploy: the audit log names it as the actor."
      />
      <div className="field">
        <label htmlFor="token-role">Role</label>
        <select id="token-role" name="role" defaultValue={role} aria-invalid={fe?.role ? true : undefined}>
          {roles.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </div>
      <Field
        name="expiresInDays"
        label="Expires after (days)"
        type="number"
        autoComplete="off"
        errors={fe?.expiresInDays}
        defaultValue={kept(typed, "expiresInDays") ?? "90"}
      />
      <p aria-live="polite" role="status" className={state ? (state.ok ? "form-ok" : "form-error") : "sr-only"}>
        {state
          ? state.ok
            ? `Created token "${state.data.name}" (${state.data.role}), expiring ${state.data.expiresAt}.`
            : state.error
          : ""}
      </p>
      {state?.ok ? (
        <div className="field">
          <label htmlFor="new-token">Token: copy it now, it is not shown again</label>
          <input id="new-token" className="mono" readOnly value={state.data.token} onFocus={(e) => e.currentTarget.select()} />
        </div>
      ) : null}
      <Submit busy="Creating…">Create token</Submit>
    </form>
  );
}

/** Revokes one token; its next request is refused. */
export function RevokeTokenForm({ action, id, name }: { action: Action<{ id: number; name: string }>; id: number; name: string }) {
  const [state, formAction] = useActionState(action, null);
  return (
    <form action={formAction} className="form-stack">
      <input type="hidden" name="id" value={id} />
      <Submit busy="Revoking…" danger>{`Revoke ${name}`}</Submit>
      {state && !state.ok ? (
        <p role="status" aria-live="polite" className="form-error">
          {state.error}
        </p>
      ) : null}
    </form>
  );
}
