"use client";

import { useActionState } from "react";
import { useFormStatus } from "react-dom";
import type { ActionResult } from "@/lib/server/action";
import { kept } from "@/lib/views/form-values";
import { Field } from "./form-field";

type Action = (prev: unknown, form: FormData) => Promise<ActionResult<{ path: string; changed: boolean }>>;

function Submit({ idle, busy, danger = false }: { idle: string; busy: string; danger?: boolean }) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" className={`btn ${danger ? "btn-danger" : "btn-primary"}`} disabled={pending}>
      {pending ? busy : idle}
    </button>
  );
}

/** The admin's form to trust an in-house class by its exact module.name, with the reason for the audit log. */
export function TrustAddForm({ action }: { action: Action }) {
  const [state, formAction] = useActionState(action, null);
  const fe = state && !state.ok ? state.fieldErrors : undefined;
  const typed = state && !state.ok ? state.values : undefined;
  const done = state?.ok ? (state.data.changed ? `Trusted ${state.data.path}.` : `${state.data.path} was already trusted.`) : "";
  return (
    <form action={formAction} className="form-card" key={state?.ok ? state.data.path : "new"} aria-label="Trust a class">
      <Field
        name="path"
        label="Module and name"
        autoComplete="off"
        errors={fe?.path}
        defaultValue={kept(typed, "path")}
        hint="Exact, e.g. acme_features.Winsorizer: never a prefix. Names that can run code (os, subprocess, builtins.eval…) can't be trusted."
      />
      <Field name="reason" label="Why" autoComplete="off" errors={fe?.reason} defaultValue={kept(typed, "reason")} />
      <p aria-live="polite" role="status" className={state ? (state.ok ? "form-ok" : "form-error") : "sr-only"}>
        {state ? (state.ok ? done : state.error) : ""}
      </p>
      <Submit idle="Trust" busy="Saving…" />
    </form>
  );
}

/** Takes one pair off the trust list, with a reason. */
export function TrustRemoveForm({ action, path }: { action: Action; path: string }) {
  const [state, formAction] = useActionState(action, null);
  const id = `remove-${path.replaceAll(".", "-")}`;
  const errors = state && !state.ok ? (state.fieldErrors?.reason ?? [state.error]) : undefined;
  return (
    <form action={formAction} className="inline-form" aria-label={`Stop trusting ${path}`}>
      <input type="hidden" name="path" value={path} />
      <label htmlFor={`${id}-reason`} className="sr-only">
        Why stop trusting {path}
      </label>
      <input
        id={`${id}-reason`}
        name="reason"
        placeholder="Why"
        required
        aria-invalid={errors ? true : undefined}
        aria-describedby={errors ? `${id}-error` : undefined}
      />
      <Submit idle="Remove" busy="Removing…" danger />
      <p id={`${id}-error`} aria-live="polite" role="status" className={errors ? "field-error" : "sr-only"}>
        {errors ? errors.join(" ") : state?.ok ? `No longer trusted: ${state.data.path}.` : ""}
      </p>
    </form>
  );
}
