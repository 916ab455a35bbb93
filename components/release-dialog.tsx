"use client";

import { useRouter } from "next/navigation";
import { useActionState, useEffect, useRef, useState, useTransition } from "react";
import { useFormStatus } from "react-dom";
import type { Plan } from "@/lib/registry/plan";
import type { ActionResult } from "@/lib/server/action";
import { kept } from "@/lib/views/form-values";
import { fmtMetric } from "@/lib/views/format";
import type { Preview } from "@/lib/views/preview";
import type { LoadCheckState } from "@/lib/load-check";
import { progressOfEvidence } from "@/lib/load-check/progress";
import { LivePeriods } from "./live-periods";
import { LoadCheckProgress } from "./load-check-panel";
import { PlanChecks, PlanFiles, PlanMetrics } from "./release-plan-tables";
import { useHydrated } from "./use-hydrated";

type PreviewAction = (prev: unknown, input: { kind: Plan["kind"]; version?: string }) => Promise<ActionResult<Preview>>;
type Applied = {
  status: string;
  to: string;
  from: string | null;
  requestId?: number | null;
  emergency?: boolean;
  correlationId?: string;
};
type ApplyAction = (prev: unknown, input: FormData) => Promise<ActionResult<Applied>>;
type StatusAction = (prev: unknown, input: { version: string }) => Promise<ActionResult<LoadCheckState>>;

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
export function ReleaseActions({
  actions,
  preview,
  apply,
  loadCheckStatus,
}: {
  actions: ReleaseAction[];
  preview: PreviewAction;
  apply: ApplyAction;
  /** Follows a load check the preview started, so the dialog shows its progress and then plans again. */
  loadCheckStatus: StatusAction;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [active, setActive] = useState<ReleaseAction | null>(null);
  const [result, setResult] = useState<ActionResult<Preview> | null>(null);
  const [attempt, setAttempt] = useState(0);
  // Once the change went through, the title says what happened instead of asking for a review.
  const [doneTitle, setDoneTitle] = useState<string | null>(null);
  const [loading, startPreview] = useTransition();
  // Planning again once a load check answers keeps the form on screen (and what was typed in it).
  const [, startReplan] = useTransition();
  const hydrated = useHydrated();

  const open = (action: ReleaseAction) => {
    setActive(action);
    setResult(null);
    setDoneTitle(null);
    setAttempt((n) => n + 1);
    if (!dialog.current?.open) dialog.current?.showModal();
    startPreview(async () => setResult(await preview(null, { kind: action.kind, version: action.version })));
  };
  const replan = () => {
    if (active) startReplan(async () => setResult(await preview(null, { kind: active.kind, version: active.version })));
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
          disabled={!hydrated}
        >
          {a.label}
        </button>
      ))}
      <dialog ref={dialog} className="release" aria-labelledby={titleId}>
        <div className="release-body">
          <h2 id={titleId}>{doneTitle ?? (active ? `${active.label}: review before anything changes` : "")}</h2>
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
                loadCheckStatus={loadCheckStatus}
                onLoadCheckDone={replan}
                onClose={close}
                onDone={setDoneTitle}
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

/** The dialog's title once a confirmed change went through. */
function titleOf(d: Applied, kind: Plan["kind"]): string {
  if (d.status === "requested") return `Request #${d.requestId} filed: waiting for a second releaser`;
  if (d.status === "noop") return "Nothing to do: already in production";
  return kind === "promote" ? `Promoted: ${d.to} is in production` : `Rolled back: ${d.to} is in production`;
}

function PlanView(props: {
  plan: Plan;
  approval: NonNullable<Preview["approval"]>;
  apply: ApplyAction;
  loadCheckStatus: StatusAction;
  onLoadCheckDone: () => void;
  onClose: () => void;
  onDone: (title: string) => void;
  onReview: () => void;
  onPromoteInstead: () => void;
}) {
  const { plan, approval, onDone } = props;
  const router = useRouter();
  const [state, formAction] = useActionState(props.apply, null);
  const [overrides, setOverrides] = useState<string[]>([]);
  const fe = state && !state.ok ? state.fieldErrors : undefined;
  // What was typed comes back with a refusal: React resets the form after its action.
  const typed = state && !state.ok ? state.values : undefined;
  const stale = state && !state.ok && (state.code === "production_changed" || state.code === "source_changed");
  // A load check still running has not failed: nothing to override (yet).
  const failedOverridable = plan.checks.filter((c) => !c.passed && c.overridable && c.evidence.status !== "running");
  const blockedOutright = plan.checks.filter((c) => !c.passed && !c.overridable);
  // Still submittable when a check blocks it: the server refuses, and the refused attempt is on record.
  const willBeRefused = blockedOutright.length > 0 || !failedOverridable.every((c) => overrides.includes(c.name));
  // The sandboxed load is still going: its progress is shown, and the plan is made again once it answers.
  const loading = plan.checks.find((c) => c.name === "loads_and_predicts" && c.evidence.status === "running");

  useEffect(() => {
    if (state?.ok) {
      onDone(titleOf(state.data, plan.kind));
      router.refresh();
    }
  }, [state, router, onDone, plan.kind]);

  if (state?.ok) return <Done data={state.data} onClose={props.onClose} />;

  return (
    <form action={formAction}>
      <input type="hidden" name="kind" value={plan.kind} />
      <input type="hidden" name="version" value={plan.target.stem} />
      <input type="hidden" name="expectedProductionSha256" value={plan.current.sha256 ?? ""} />
      <input type="hidden" name="expectedTargetSha256" value={plan.target.sha256} />
      <PlanIntro plan={plan} />
      <PlanFiles files={plan.files} />
      <PlanMetrics plan={plan} />
      <PlanChecks checks={plan.checks} overrides={overrides} setOverrides={setOverrides} />
      {loading ? (
        <LoadCheckProgress
          version={plan.target.stem}
          status={props.loadCheckStatus}
          initial={{ state: "running", ...progressOfEvidence(loading.evidence) }}
          onDone={props.onLoadCheckDone}
        />
      ) : null}
      <RefusalNote
        plan={plan}
        blocked={blockedOutright.map((c) => c.name)}
        willBeRefused={willBeRefused}
        onPromoteInstead={props.onPromoteInstead}
      />
      <ReasonFields plan={plan} overrides={overrides} typed={typed} errors={fe} />
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
          <button type="button" className="btn" onClick={props.onReview}>
            Review the new state
          </button>
        ) : null}
        <button type="button" className="btn" onClick={props.onClose}>
          Cancel
        </button>
        <Confirm
          disabled={plan.noop || Boolean(stale) || Boolean(loading)}
          kind={plan.kind}
          refused={willBeRefused}
          request={approval === "request"}
          waiting={Boolean(loading)}
        />
      </div>
    </form>
  );
}

/** What will happen, in a sentence, and for a rollback when the target was live and whether it meets the threshold. */
function PlanIntro({ plan }: { plan: Plan }) {
  const scored = plan.target.metric !== "unknown";
  const belowThreshold = plan.kind === "rollback" && (!scored || plan.target.score < plan.minScore);
  const neverLive = plan.refusalCode === "never_live";
  return (
    <>
      <p>
        {plan.kind === "promote" ? "Promote" : "Roll back to"} <strong className="mono">{plan.target.stem}</strong> ({plan.target.metric}{" "}
        {fmtMetric(scored ? plan.target.score : null)}). Production now: <strong className="mono">{plan.current.stem ?? "nothing"}</strong>{" "}
        ({plan.current.state}).
      </p>
      {plan.noop ? <p className="muted">This version already is production with a consistent alias pair: there is nothing to do.</p> : null}
      {belowThreshold && !neverLive ? (
        <p className="alert alert-warn" data-testid="rollback-below-threshold">
          <strong>Below the release threshold:</strong> {plan.target.stem} scores{" "}
          {scored ? `${plan.target.metric} ${fmtMetric(plan.target.score)}` : "nothing"}, under {fmtMetric(plan.minScore)}. A rollback to a
          version that was live skips <code>min_score</code>, so this is allowed, but production will be below the threshold until a better
          version is promoted.
        </p>
      ) : null}
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
    </>
  );
}

function RefusalNote(props: { plan: Plan; blocked: string[]; willBeRefused: boolean; onPromoteInstead: () => void }) {
  const { plan, blocked } = props;
  if (plan.refusalCode === "never_live") {
    return (
      <div className="form-error" role="note">
        <p>
          Not a rollback: <span className="mono">{plan.target.stem}</span> was never in production, so it cannot skip the score gates.
          Promote it instead: every readiness check applies.
        </p>
        <button type="button" className="btn btn-primary" onClick={props.onPromoteInstead}>
          Plan a promotion instead
        </button>
      </div>
    );
  }
  if (blocked.length) {
    return <p className="form-error">{blocked.join(", ")} failed and cannot be overridden: this version cannot go to production.</p>;
  }
  if (props.willBeRefused && !plan.noop) {
    return (
      <p className="form-error">
        A failed check is not overridden: tick its override and give a reason, or submit to have the refusal recorded in the audit log.
      </p>
    );
  }
  return null;
}

function ReasonFields(props: {
  plan: Plan;
  overrides: string[];
  typed: Parameters<typeof kept>[0];
  errors: Record<string, string[] | undefined> | undefined;
}) {
  const { overrides, typed, errors: fe } = props;
  return (
    <>
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
      {!props.plan.noop ? (
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
    </>
  );
}

/** What happened, with the way to its record: the audit log's events of this change, or the request. */
function Done({ data, onClose }: { data: Applied; onClose: () => void }) {
  const audit = data.correlationId ? `/audit?correlation=${encodeURIComponent(data.correlationId)}` : "/audit";
  return (
    <>
      <p className="form-ok" role="status" aria-live="polite">
        {data.status === "requested" ? (
          <>
            Request #{data.requestId} sent: nothing changes until a second releaser approves it on <a href="/approvals">Approvals</a>.
          </>
        ) : data.status === "noop" ? (
          `${data.to} was already in production: nothing changed.`
        ) : (
          <>
            Done: production is now <strong className="mono">{data.to}</strong> (was {data.from ?? "nothing"}). Both alias files were
            replaced and the change is recorded in the audit log.
            {data.emergency ? " Emergency rollback: approval skipped, flagged for review." : ""}
          </>
        )}
      </p>
      <div className="row-actions">
        {data.status === "requested" ? null : (
          <a className="btn" href={audit} data-testid="audit-event-link">
            See it in the audit log
          </a>
        )}
        <button type="button" className="btn btn-primary" onClick={onClose}>
          Close
        </button>
      </div>
    </>
  );
}

function Confirm(props: { disabled: boolean; kind: Plan["kind"]; refused: boolean; request: boolean; waiting: boolean }) {
  const { disabled, kind, refused, request } = props;
  const { pending } = useFormStatus();
  const label = props.waiting
    ? "Waiting for the load check…"
    : refused
      ? "Submit and record the refusal"
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
