"use client";

import { useActionState } from "react";
import { useFormStatus } from "react-dom";
import type { ActionResult } from "@/lib/server/action";
import { kept, keptAll } from "@/lib/views/form-values";
import { Field } from "./form-field";

type Action<T> = (prev: unknown, form: FormData) => Promise<ActionResult<T>>;

function Submit({ children, busy, danger = false }: { children: string; busy: string; danger?: boolean }) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" className={`btn ${danger ? "btn-danger" : "btn-primary"}`} disabled={pending}>
      {pending ? busy : children}
    </button>
  );
}

/** The form's answer, announced politely: what changed, or why nothing did. */
function Status<T>({ state, ok }: { state: ActionResult<T> | null; ok: (data: T) => string }) {
  return (
    <p aria-live="polite" role="status" className={state ? (state.ok ? "form-ok" : "form-error") : "sr-only"}>
      {state ? (state.ok ? ok(state.data) : state.error) : ""}
    </p>
  );
}

const ended = (n: number) => (n ? ` ${n} session(s) ended.` : "");

/** Roles of one account, as checkboxes; after a refusal the boxes show what was asked, not the page's stale state. */
export function RolesForm(props: {
  action: Action<{ username: string; changed: boolean; roles: string[]; sessionsEnded: number }>;
  username: string;
  roles: readonly string[];
  current: readonly string[];
}) {
  const [state, formAction] = useActionState(props.action, null);
  const fe = state && !state.ok ? state.fieldErrors : undefined;
  const asked = state && !state.ok && state.values ? keptAll(state.values, "role") : null;
  const checked = asked ?? (state?.ok ? state.data.roles : props.current);
  return (
    <form action={formAction} className="form-stack">
      <input type="hidden" name="username" value={props.username} />
      <fieldset className="field role-choices" aria-describedby={fe?.role ? "roles-error" : undefined}>
        <legend>Roles of {props.username}</legend>
        {props.roles.map((r) => (
          <label key={`${r}-${checked.join()}`}>
            <input type="checkbox" name="role" value={r} defaultChecked={checked.includes(r)} /> {r}
          </label>
        ))}
        {fe?.role ? (
          <p id="roles-error" className="field-error">
            {fe.role.join(" ")}
          </p>
        ) : null}
      </fieldset>
      <Status
        state={state}
        ok={(d) => (d.changed ? `${d.username} now has ${d.roles.join(", ")}.${ended(d.sessionsEnded)}` : "Nothing changed.")}
      />
      <Submit busy="Saving…">Save roles</Submit>
    </form>
  );
}

/** Disable (ending the account's sessions at once) or enable again. */
export function StatusForm(props: {
  action: Action<{ username: string; changed: boolean; disabled: boolean; sessionsEnded: number }>;
  username: string;
  disabled: boolean;
}) {
  const [state, formAction] = useActionState(props.action, null);
  return (
    <form action={formAction} className="form-stack">
      <input type="hidden" name="username" value={props.username} />
      <input type="hidden" name="disabled" value={props.disabled ? "false" : "true"} />
      <Status
        state={state}
        ok={(d) => `${d.disabled ? "Disabled" : "Enabled"} ${d.username}.${d.changed ? ended(d.sessionsEnded) : " (It already was.)"}`}
      />
      <Submit busy="Working…" danger={!props.disabled}>
        {props.disabled ? "Enable account" : "Disable account"}
      </Submit>
    </form>
  );
}

/** A temporary password, typed or generated; a generated one is shown here once, for the admin to pass on. */
export function ResetPasswordForm(props: {
  action: Action<{ username: string; sessionsEnded: number; generated: string | null }>;
  username: string;
}) {
  const [state, formAction] = useActionState(props.action, null);
  const fe = state && !state.ok ? state.fieldErrors : undefined;
  return (
    <form action={formAction} className="form-stack">
      <input type="hidden" name="username" value={props.username} />
      <Field
        name="password"
        label="Temporary password"
        type="password"
        autoComplete="new-password"
        required={false}
        hint="Leave empty to generate one. The person must choose their own at the next sign-in."
        errors={fe?.password}
      />
      <Status
        state={state}
        ok={(d) =>
          `Reset the password of ${d.username}.${ended(d.sessionsEnded)}${
            d.generated ? ` Temporary password (shown once; pass it on privately): ${d.generated}` : ""
          }`
        }
      />
      <Submit busy="Resetting…">Reset password</Submit>
    </form>
  );
}

/** Deleting asks for the account's name, typed, so a slip of the mouse deletes nothing. */
export function DeleteAccountForm(props: { action: Action<{ username: string; changed: boolean }>; username: string }) {
  const [state, formAction] = useActionState(props.action, null);
  const fe = state && !state.ok ? state.fieldErrors : undefined;
  return (
    <form action={formAction} className="form-stack">
      <input type="hidden" name="username" value={props.username} />
      <Field
        name="typedName"
        label={`Type ${props.username} to confirm`}
        autoComplete="off"
        errors={fe?.typedName}
        defaultValue={state && !state.ok ? kept(state.values, "typedName") : undefined}
      />
      <Status state={state} ok={(d) => `Deleted ${d.username}. The name stays reserved.`} />
      <Submit busy="Deleting…" danger>
        Delete account
      </Submit>
    </form>
  );
}
