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

/** The admin's form for a new webhook: URL, secret (never echoed back), events. */
export function CreateWebhookForm({ action, events }: { action: Action<{ id: number; url: string }>; events: readonly string[] }) {
  const [state, formAction] = useActionState(action, null);
  const fe = state && !state.ok ? state.fieldErrors : undefined;
  const typed = state && !state.ok ? state.values : undefined;
  const checked = typed ? keptAll(typed, "events") : events.filter((e) => e !== "rollback.refused");
  return (
    <form action={formAction} className="form-card" key={state?.ok ? `added-${state.data.id}` : "new"}>
      <Field
        name="url"
        label="Receiver URL"
        type="url"
        autoComplete="off"
        errors={fe?.url}
        defaultValue={kept(typed, "url")}
        hint="http:// or https://; private and loopback addresses are refused unless the server allows them."
      />
      <Field
        name="secret"
        label="Signing secret"
        type="password"
        autoComplete="new-password"
        errors={fe?.secret}
        hint="16 to 512 characters, e.g. from `openssl rand -hex 32`. Stored encrypted; never shown again."
      />
      <fieldset className="field" aria-describedby={fe?.events ? "events-error" : undefined}>
        <legend>Events</legend>
        {events.map((e) => (
          <label key={`${e}-${checked.includes(e)}`}>
            <input type="checkbox" name="events" value={e} defaultChecked={checked.includes(e)} /> {e}
          </label>
        ))}
        {fe?.events ? (
          <p id="events-error" className="field-error">
            {fe.events.join(" ")}
          </p>
        ) : null}
      </fieldset>
      <p aria-live="polite" role="status" className={state ? (state.ok ? "form-ok" : "form-error") : "sr-only"}>
        {state ? (state.ok ? `Added webhook #${state.data.id}.` : state.error) : ""}
      </p>
      <Submit busy="Adding…">Add webhook</Submit>
    </form>
  );
}

/** One button that runs one action with fixed fields, and says what happened (the action's `message`). */
export function WebhookButton(props: {
  action: Action<{ message: string }>;
  fields: Record<string, string>;
  label: string;
  busy: string;
  danger?: boolean;
}) {
  const [state, formAction] = useActionState(props.action, null);
  return (
    <form action={formAction} className="inline-form">
      {Object.entries(props.fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <Submit busy={props.busy} danger={props.danger}>
        {props.label}
      </Submit>
      <span aria-live="polite" role="status" className={state ? (state.ok ? "form-ok" : "form-error") : "sr-only"}>
        {state ? (state.ok ? state.data.message : state.error) : ""}
      </span>
    </form>
  );
}
