"use client";

import { useActionState } from "react";
import { useFormStatus } from "react-dom";
import type { ActionResult } from "@/lib/server/action";
import { Field } from "./form-field";

type Action = (prev: unknown, form: FormData) => Promise<ActionResult<{ sessionsEnded: number }>>;

function Submit() {
  const { pending } = useFormStatus();
  return (
    <button type="submit" className="btn btn-primary" disabled={pending}>
      {pending ? "Changing…" : "Change password"}
    </button>
  );
}

/** Current password, new one, and the new one again; nothing typed here is ever sent back to the page. */
export function ChangePasswordForm({ action }: { action: Action }) {
  const [state, formAction] = useActionState(action, null);
  const fe = state && !state.ok ? state.fieldErrors : undefined;
  return (
    <form action={formAction} className="form-card">
      <Field name="currentPassword" label="Current password" type="password" autoComplete="current-password" errors={fe?.currentPassword} />
      <Field
        name="newPassword"
        label="New password (10 characters or more)"
        type="password"
        autoComplete="new-password"
        errors={fe?.newPassword}
      />
      <Field name="confirm" label="Repeat the new password" type="password" autoComplete="new-password" errors={fe?.confirm} />
      <p aria-live="polite" role="status" className={state ? (state.ok ? "form-ok" : "form-error") : "sr-only"}>
        {state
          ? state.ok
            ? `Password changed.${state.data.sessionsEnded ? ` ${state.data.sessionsEnded} other session(s) ended.` : ""}`
            : state.error
          : ""}
      </p>
      <Submit />
    </form>
  );
}
