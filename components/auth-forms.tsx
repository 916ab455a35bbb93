"use client";

import { useActionState } from "react";
import { useFormStatus } from "react-dom";
import type { ActionResult } from "@/lib/server/action";
import { kept } from "@/lib/views/form-values";
import { Field } from "./form-field";

type FormAction = (prev: unknown, form: FormData) => Promise<ActionResult<null>>;

function Submit({ children }: { children: string }) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" className="btn btn-primary" disabled={pending} aria-disabled={pending}>
      {pending ? "Working…" : children}
    </button>
  );
}

function Status({ state }: { state: ActionResult<null> | null }) {
  return (
    <p aria-live="polite" role="status" className={state && !state.ok ? "form-error" : "sr-only"}>
      {state && !state.ok ? state.error : ""}
    </p>
  );
}

/** The username typed before a server-side error: React resets the form after its action, the server hands it back. */
const typedName = (state: ActionResult<null> | null) => (state && !state.ok ? kept(state.values, "username") : undefined);

/** The sign-in form: posts to the rate-limited sign-in action and shows its answer in a live region. */
export function SignInForm({ action, next }: { action: FormAction; next: string }) {
  const [state, formAction] = useActionState(action, null);
  const fe = state && !state.ok ? state.fieldErrors : undefined;
  return (
    <form action={formAction} className="form-card">
      <input type="hidden" name="next" value={next} />
      <Field name="username" label="Username" autoComplete="username" errors={fe?.username} defaultValue={typedName(state)} />
      <Field name="password" label="Password" type="password" autoComplete="current-password" errors={fe?.password} />
      <Status state={state} />
      <Submit>Sign in</Submit>
    </form>
  );
}

/** First-run form: creates the first admin account. */
export function FirstAdminForm({ action }: { action: FormAction }) {
  const [state, formAction] = useActionState(action, null);
  const fe = state && !state.ok ? state.fieldErrors : undefined;
  return (
    <form action={formAction} className="form-card">
      <Field name="username" label="Admin username" autoComplete="username" errors={fe?.username} defaultValue={typedName(state)} />
      <Field name="password" label="Password (10 characters or more)" type="password" autoComplete="new-password" errors={fe?.password} />
      <Field name="confirm" label="Repeat the password" type="password" autoComplete="new-password" errors={fe?.confirm} />
      <Status state={state} />
      <Submit>Create the admin account</Submit>
    </form>
  );
}
