"use client";

import { useActionState } from "react";
import { useFormStatus } from "react-dom";
import type { ActionResult } from "@/lib/server/action";

type Decision = { id: number; state: string; to: string; from: string | null; status: string | null };
type Action = (prev: unknown, form: FormData) => Promise<ActionResult<Decision>>;

function Submit({ label, busy, danger }: { label: string; busy: string; danger?: boolean }) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" className={`btn ${danger ? "btn-danger" : "btn-primary"}`} disabled={pending}>
      {pending ? busy : label}
    </button>
  );
}

function done(d: Decision): string {
  if (d.state === "approved") {
    return d.status === "noop"
      ? `Approved: ${d.to} was already in production, nothing changed.`
      : `Approved: production is now ${d.to} (was ${d.from ?? "nothing"}). The change is in the audit log.`;
  }
  return `Request #${d.id} is now ${d.state}.`;
}

function Done({ d }: { d: Decision }) {
  return (
    <p className="form-ok" role="status" aria-live="polite">
      {done(d)} <a href="/approvals">Refresh the list</a>
    </p>
  );
}

/**
 * Approve and reject, each with its own reason, for a releaser who did not make the request. The server
 * decides who is acting from the session and applies the two-person rule again; this only asks.
 */
export function DecisionForms({ id, approve, reject }: { id: number; approve: Action; reject: Action }) {
  const [approved, approveForm] = useActionState(approve, null);
  const [rejected, rejectForm] = useActionState(reject, null);
  const result = approved?.ok ? approved : rejected?.ok ? rejected : null;
  if (result?.ok) return <Done d={result.data} />;
  return (
    <div className="decision-forms">
      <ReasonForm id={id} kind="approve" state={approved} action={approveForm} label="Approve and apply" busy="Applying…" />
      <ReasonForm id={id} kind="reject" state={rejected} action={rejectForm} label="Reject" busy="Rejecting…" danger />
    </div>
  );
}

function ReasonForm(props: {
  id: number;
  kind: "approve" | "reject";
  state: ActionResult<Decision> | null;
  action: (form: FormData) => void;
  label: string;
  busy: string;
  danger?: boolean;
}) {
  const { id, kind, state } = props;
  const field = `${kind}-reason-${id}`;
  const errors = state && !state.ok ? state.fieldErrors?.reason : undefined;
  return (
    <form action={props.action} className="decision-form" aria-label={`${kind === "approve" ? "Approve" : "Reject"} request #${id}`}>
      <input type="hidden" name="id" value={id} />
      <div className="field">
        <label htmlFor={field}>
          {kind === "approve" ? "Why approve? (goes into the audit log)" : "Why reject? (goes into the audit log)"}
        </label>
        <textarea
          id={field}
          name="reason"
          required
          minLength={3}
          maxLength={2000}
          aria-invalid={errors ? true : undefined}
          aria-describedby={errors ? `${field}-error` : undefined}
        />
        {errors ? (
          <p id={`${field}-error`} className="field-error">
            {errors.join(" ")}
          </p>
        ) : null}
      </div>
      <p aria-live="polite" role="status" className={state && !state.ok ? "form-error" : "sr-only"}>
        {state && !state.ok ? state.error : ""}
      </p>
      <div className="row-actions">
        <Submit label={props.label} busy={props.busy} danger={props.danger} />
      </div>
    </form>
  );
}

/** The requester's own request: it waits for someone else; they may withdraw it. */
export function WithdrawForm({ id, withdraw }: { id: number; withdraw: Action }) {
  const [state, action] = useActionState(withdraw, null);
  if (state?.ok) return <Done d={state.data} />;
  return (
    <form action={action} className="decision-form" aria-label={`Withdraw request #${id}`}>
      <input type="hidden" name="id" value={id} />
      <p className="muted">Waiting for a second releaser: you cannot approve your own request.</p>
      <p aria-live="polite" role="status" className={state && !state.ok ? "form-error" : "sr-only"}>
        {state && !state.ok ? state.error : ""}
      </p>
      <div className="row-actions">
        <Submit label="Withdraw request" busy="Withdrawing…" />
      </div>
    </form>
  );
}
