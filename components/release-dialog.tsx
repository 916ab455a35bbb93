"use client";

import { useRouter } from "next/navigation";
import { useActionState, useEffect, useRef, useState, useTransition } from "react";
import { useFormStatus } from "react-dom";
import type { Plan } from "@/lib/registry/plan";
import type { ActionResult } from "@/lib/server/action";
import { kept } from "@/lib/views/form-values";
import { fmtCount, fmtDelta, fmtMetric } from "@/lib/views/format";
import { clip, MAX_KEY_CHARS } from "@/lib/views/json-display";
import { LivePeriods } from "./live-periods";

/** approval: how confirming goes through under the two-person rule (lib/approvals routeFor). */
type Preview = {
  plan: Plan;
  previous: { stem: string; explanation: string } | null;
  approval?: "direct" | "request" | "emergency";
};
type PreviewAction = (prev: unknown, input: { kind: Plan["kind"]; version?: string }) => Promise<ActionResult<Preview>>;
type ApplyAction = (
  prev: unknown,
  input: FormData,
) => Promise<ActionResult<{ status: string; to: string; from: string | null; requestId?: number | null; emergency?: boolean }>>;

const short = (sha: string | null) => (sha ? `${sha.slice(0, 12)}…` : "(none)");

export interface ReleaseAction {
  kind: Plan["kind"];
  /** A stem, "previous" for the version live before the current one, or omitted for the best version. */
  version?: string;
  label: string;
  danger?: boolean;
}

/**
 * Promote and rollback buttons that never write on click: each opens a preview of the server's plan
 * (files with their current and new sha256, metric changes, every check with its evidence), asks for a
 * reason and any overrides, and only then calls the apply action, which plans again on the server.
 * One stable component owns the dialog, so the result stays on screen when the page refreshes and the
 * buttons change.
 */
export function ReleaseActions({ actions, preview, apply }: { actions: ReleaseAction[]; preview: PreviewAction; apply: ApplyAction }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [active, setActive] = useState<ReleaseAction | null>(null);
  const [result, setResult] = useState<ActionResult<Preview> | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [loading, startPreview] = useTransition();

  const open = (action: ReleaseAction) => {
    setActive(action);
    setResult(null);
    setAttempt((n) => n + 1);
    if (!dialog.current?.open) dialog.current?.showModal();
    startPreview(async () => setResult(await preview(null, { kind: action.kind, version: action.version })));
  };
  const close = () => dialog.current?.close();
  const titleId = "release-dialog-title";

  return (
    <>
      {actions.map((a) => (
        <button
          key={`${a.kind}-${a.version ?? "best"}`}
          type="button"
          className={`btn ${a.danger ? "btn-danger" : "btn-primary"}`}
          onClick={() => open(a)}
        >
          {a.label}
        </button>
      ))}
      <dialog ref={dialog} className="release" aria-labelledby={titleId}>
        <div className="release-body">
          <h2 id={titleId}>{active?.label}: review before anything changes</h2>
          {loading || !result ? (
            <p aria-live="polite">Planning on the server…</p>
          ) : result.ok ? (
            <>
              {result.data.previous ? (
                <p className="muted" data-testid="previous-explanation">
                  Previous production is <strong className="mono">{result.data.previous.stem}</strong>: {result.data.previous.explanation}
                </p>
              ) : null}
              <PlanView
                key={attempt}
                plan={result.data.plan}
                approval={result.data.approval ?? "direct"}
                apply={apply}
                onClose={close}
                onReview={() => active && open(active)}
                onPromoteInstead={() => open({ kind: "promote", version: result.data.plan.target.stem, label: "Promote" })}
              />
            </>
          ) : (
            <>
              <p className="form-error" role="alert">
                {result.error}
              </p>
              <div className="row-actions">
                <button type="button" className="btn" onClick={close}>
                  Close
                </button>
              </div>
            </>
          )}
        </div>
      </dialog>
    </>
  );
}

function PlanView({
  plan,
  approval,
  apply,
  onClose,
  onReview,
  onPromoteInstead,
}: {
  plan: Plan;
  approval: NonNullable<Preview["approval"]>;
  apply: ApplyAction;
  onClose: () => void;
  onReview: () => void;
  onPromoteInstead: () => void;
}) {
  const router = useRouter();
  const [state, formAction] = useActionState(apply, null);
  const failedOverridable = plan.checks.filter((c) => !c.passed && c.overridable);
  const blockedOutright = plan.checks.filter((c) => !c.passed && !c.overridable);
  const neverLive = plan.refusalCode === "never_live";
  const [overrides, setOverrides] = useState<string[]>([]);
  const fe = state && !state.ok ? state.fieldErrors : undefined;
  // What was typed comes back with a refusal: React resets the form after its action.
  const typed = state && !state.ok ? state.values : undefined;
  const stale = state && !state.ok && (state.code === "production_changed" || state.code === "source_changed");

  useEffect(() => {
    if (state?.ok) router.refresh();
  }, [state, router]);

  if (state?.ok) {
    return (
      <>
        <p className="form-ok" role="status" aria-live="polite">
          {state.data.status === "requested" ? (
            <>
              Request #{state.data.requestId} sent: nothing changes until a second releaser approves it on{" "}
              <a href="/approvals">Approvals</a>.
            </>
          ) : state.data.status === "noop" ? (
            `${state.data.to} was already in production: nothing changed.`
          ) : (
            `Done: production is now ${state.data.to} (was ${state.data.from ?? "nothing"}). The change is in the audit log.${
              state.data.emergency ? " Emergency rollback: approval skipped, flagged for review." : ""
            }`
          )}
        </p>
        <div className="row-actions">
          <button type="button" className="btn" onClick={onClose}>
            Close
          </button>
        </div>
      </>
    );
  }

  const allOverridden = failedOverridable.every((c) => overrides.includes(c.name));
  // Still submittable when a check blocks it: the server refuses, and the refused attempt is on record.
  const willBeRefused = blockedOutright.length > 0 || !allOverridden;
  return (
    <form action={formAction}>
      <input type="hidden" name="kind" value={plan.kind} />
      <input type="hidden" name="version" value={plan.target.stem} />
      <input type="hidden" name="expectedProductionSha256" value={plan.current.sha256 ?? ""} />
      <input type="hidden" name="expectedTargetSha256" value={plan.target.sha256} />
      <p>
        {plan.kind === "promote" ? "Promote" : "Roll back to"} <strong className="mono">{plan.target.stem}</strong> ({plan.target.metric}{" "}
        {fmtMetric(plan.target.metric === "unknown" ? null : plan.target.score)}). Production now:{" "}
        <strong className="mono">{plan.current.stem ?? "nothing"}</strong> ({plan.current.state}).
      </p>
      {plan.noop ? <p className="muted">This version already is production with a consistent alias pair: there is nothing to do.</p> : null}

      {plan.rollback ? (
        plan.rollback.periods.length ? (
          <LivePeriods
            className="release-history"
            caption={`When ${plan.target.stem} was live (by content hash, from the audit log${plan.rollback.total > plan.rollback.periods.length ? `; the newest ${plan.rollback.periods.length} of ${plan.rollback.total}` : ""})`}
            periods={plan.rollback.periods}
            link={false}
          />
        ) : (
          <p className={neverLive ? "form-error" : "muted"} data-testid="rollback-finding">
            {plan.rollback.explanation}
          </p>
        )
      ) : null}

      {plan.files.length ? (
        <table className="release-files">
          <caption>Files that will be replaced</caption>
          <thead>
            <tr>
              <th scope="col">Alias</th>
              <th scope="col">Copied from</th>
              <th scope="col">sha256 now → after</th>
            </tr>
          </thead>
          <tbody>
            {plan.files.map((f) => (
              <tr key={f.alias}>
                <td className="mono">{f.alias}</td>
                <td className="mono">{f.source}</td>
                <td className="mono" title={`${f.currentSha256 ?? "none"} → ${f.newSha256}`}>
                  {short(f.currentSha256)} → {short(f.newSha256)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}

      {plan.metricChanges.length ? (
        <table className="release-metrics">
          <caption>
            Metrics against production
            {plan.metricChangesOmitted > 0 &&
              ` (the first ${fmtCount(plan.metricChanges.length)}; ${fmtCount(plan.metricChangesOmitted)} more not shown)`}
          </caption>
          <thead>
            <tr>
              <th scope="col">Metric</th>
              <th scope="col" className="num">
                Production
              </th>
              <th scope="col" className="num">
                {plan.kind === "promote" ? "Candidate" : "Rollback target"}
              </th>
              <th scope="col" className="num">
                Δ
              </th>
            </tr>
          </thead>
          <tbody>
            {plan.metricChanges.map((m) => (
              <tr key={m.metric}>
                <td className="mono">{clip(m.metric, MAX_KEY_CHARS)}</td>
                <td className="num">{fmtMetric(m.from)}</td>
                <td className="num">{fmtMetric(m.to)}</td>
                <td className={`num ${m.delta !== null && m.delta < 0 ? "check-fail" : ""}`}>{fmtDelta(m.delta)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}

      <table className="release-checks">
        <caption>Readiness checks</caption>
        <thead>
          <tr>
            <th scope="col">Check</th>
            <th scope="col">Result</th>
            <th scope="col">Evidence</th>
          </tr>
        </thead>
        <tbody>
          {plan.checks.map((c) => (
            <tr key={c.name} data-check={c.name}>
              <td className="mono">{c.name}</td>
              <td className={c.skipped ? "check-skip" : c.passed ? "check-pass" : "check-fail"}>
                {c.skipped ? "skipped" : c.passed ? "pass" : c.overridable ? "fail (overridable)" : "fail"}
              </td>
              <td>
                {c.detail}
                {!c.passed && c.overridable ? (
                  <label className="override">
                    <input
                      type="checkbox"
                      name="override"
                      value={c.name}
                      checked={overrides.includes(c.name)}
                      onChange={(e) => setOverrides((o) => (e.target.checked ? [...o, c.name] : o.filter((x) => x !== c.name)))}
                    />{" "}
                    Override {c.name}
                  </label>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      {neverLive ? (
        <div className="form-error" role="note">
          <p>
            Not a rollback: <span className="mono">{plan.target.stem}</span> was never in production, so it cannot skip the score gates.
            Promote it instead: every readiness check applies.
          </p>
          <button type="button" className="btn btn-primary" onClick={onPromoteInstead}>
            Plan a promotion instead
          </button>
        </div>
      ) : blockedOutright.length ? (
        <p className="form-error">
          {blockedOutright.map((c) => c.name).join(", ")} failed and cannot be overridden: this version cannot go to production.
        </p>
      ) : willBeRefused && !plan.noop ? (
        <p className="form-error">Failed checks are not overridden: the server will refuse this change (and record the refusal).</p>
      ) : null}

      {overrides.length ? (
        <div className="field">
          <label htmlFor="overrideReason">Why override {overrides.join(" and ")}?</label>
          <textarea
            id="overrideReason"
            name="overrideReason"
            required
            defaultValue={kept(typed, "overrideReason")}
            aria-describedby={fe?.overrideReason ? "overrideReason-error" : undefined}
          />
          {fe?.overrideReason ? (
            <p id="overrideReason-error" className="field-error">
              {fe.overrideReason.join(" ")}
            </p>
          ) : null}
        </div>
      ) : null}

      {!plan.noop ? (
        <div className="field">
          <label htmlFor="reason">Reason for this change (goes into the audit log)</label>
          <textarea
            id="reason"
            name="reason"
            required
            minLength={3}
            defaultValue={kept(typed, "reason")}
            aria-describedby={fe?.reason ? "reason-error" : undefined}
          />
          {fe?.reason ? (
            <p id="reason-error" className="field-error">
              {fe.reason.join(" ")}
            </p>
          ) : null}
        </div>
      ) : null}

      {approval === "request" && !plan.noop && !willBeRefused ? (
        <p className="muted">
          The two-person rule is on: this files a request, and a second releaser must approve it before anything changes.
        </p>
      ) : approval === "emergency" ? (
        <p className="muted">
          Emergency rollback to the version live just before: it applies now without a second releaser, and the audit log flags it for
          review.
        </p>
      ) : null}

      <p aria-live="polite" role="status" className={state && !state.ok ? "form-error" : "sr-only"}>
        {state && !state.ok ? state.error : ""}
      </p>
      <div className="row-actions">
        {stale ? (
          <button type="button" className="btn" onClick={onReview}>
            Review the new state
          </button>
        ) : null}
        <button type="button" className="btn" onClick={onClose}>
          Cancel
        </button>
        <Confirm disabled={plan.noop || Boolean(stale)} kind={plan.kind} refused={willBeRefused} request={approval === "request"} />
      </div>
    </form>
  );
}

function Confirm({ disabled, kind, refused, request }: { disabled: boolean; kind: Plan["kind"]; refused: boolean; request: boolean }) {
  const { pending } = useFormStatus();
  const label = refused
    ? "Submit anyway (will be refused)"
    : request
      ? "Request approval"
      : kind === "promote"
        ? "Confirm promotion"
        : "Confirm rollback";
  return (
    <button type="submit" className={`btn ${refused ? "" : "btn-primary"}`} disabled={disabled || pending}>
      {pending ? "Applying…" : label}
    </button>
  );
}
