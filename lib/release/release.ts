import { randomUUID } from "node:crypto";
import { loadCheckPolicyOf } from "@/lib/settings/settings";
import { trustPolicyOf } from "@/lib/trust/trust-list";
import { isUnreachable } from "@/lib/db/url";
import {
  applyPlan,
  type ChangeRequest,
  needsRecovery,
  type Plan,
  ProductionChangedError,
  planFromDisk,
  type Recovery,
  RegistryError,
  recoverInterrupted,
  SourceChangedError,
  scanForPlan,
} from "@/lib/registry";
import { DatabaseUnavailableError } from "@/lib/registry/errors";
import { type AuditDb, openAudit } from "@/lib/audit/db";
import { type Actor, type AuditAction, recordEvent } from "@/lib/audit/log";
import { productionHistory } from "@/lib/audit/production-history";

export interface ReleaseOptions {
  dryRun?: boolean;
  /** What the person saw in the preview: refuse (and audit) when the disk no longer matches it. */
  /** What the caller saw: refuse (and audit) when the disk no longer matches it. The API may name production only. */
  expected?: { productionSha256: string | null; targetSha256?: string };
  /** Added to the details of every event this change records (an approval it carries out, an emergency flag). */
  details?: Record<string, unknown>;
}

export type ReleaseStatus = "done" | "noop" | "refused" | "dry_run";

export interface ReleaseOutcome {
  status: ReleaseStatus;
  plan: Plan;
  correlationId: string;
}

const ACTIONS = {
  promote: {
    started: "model.promotion_started",
    done: "model.promoted",
    refused: "model.promotion_refused",
    failed: "model.promotion_failed",
    noop: "model.promotion_noop",
  },
  rollback: {
    started: "model.rollback_started",
    done: "model.rolled_back",
    refused: "model.rollback_refused",
    failed: "model.rollback_failed",
    noop: "model.rollback_noop",
  },
} as const satisfies Record<string, Record<string, AuditAction>>;

/**
 * Plans a promotion or rollback against the disk as it is now (a rollback against the audit log's record of
 * what was live) and, unless it is a dry run, applies it with the audit trail: a refused or no-op attempt
 * is recorded as such; an allowed one records its intent under the registry lock before any alias changes
 * and its completion after; a failure (stale plan, disk error) is recorded and rethrown. Repairs an
 * interrupted earlier change first, and records that too.
 */
export async function release(root: string, request: ChangeRequest, actor: Actor, opts: ReleaseOptions = {}): Promise<ReleaseOutcome> {
  const correlationId = randomUUID();
  const actions = ACTIONS[request.kind];
  // Only a rollback reads the log to plan: whether its target was live is part of the plan.
  const history = request.kind === "rollback" ? productionHistory(openAudit(root)) : undefined;
  const { plan } = await planFromDisk(root, request, history, await trustPolicyOf(root), await loadCheckPolicyOf(root));
  if (opts.dryRun) return { status: "dry_run", plan, correlationId };
  const db = openAudit(root);
  const facts = factsOf(plan);
  if (opts.details) facts.details = { ...facts.details, ...opts.details };
  const stale = opts.expected && staleness(plan, opts.expected);
  if (stale) {
    await recordEvent(db, actor, {
      ...facts,
      action: actions.failed,
      outcome: "failed",
      correlationId,
      details: { ...facts.details, error: { code: stale.code, message: stale.message }, expected: opts.expected },
    });
    throw stale;
  }
  if (!plan.allowed) {
    await recordEvent(db, actor, {
      ...facts,
      action: actions.refused,
      outcome: "refused",
      correlationId,
      details: { ...facts.details, refusal: plan.refusal },
    });
    return { status: "refused", plan, correlationId };
  }
  try {
    const result = await applyPlan(
      root,
      plan,
      {
        onRecovered: (r) => recordRecovery(db, actor, r),
        beforeCommit: async () => {
          // No alias changes before its intent is in the log: a database gone away refuses the change here.
          await recordEvent(db, actor, { ...facts, action: actions.started, outcome: "intent", correlationId }).catch((e) => {
            throw unavailable(e, "Its intent could not be recorded in the audit log, so nothing was changed", UNCHANGED);
          });
        },
        afterCommit: async () => {
          await recordEvent(db, actor, { ...facts, action: actions.done, outcome: "succeeded", correlationId });
        },
      },
      { tag: correlationId },
    );
    if (result.noop) {
      await recordEvent(db, actor, { ...facts, action: actions.noop, outcome: "noop", correlationId });
      return { status: "noop", plan, correlationId };
    }
    return { status: "done", plan, correlationId };
  } catch (e) {
    const failure = unavailable(e, "The change did not complete", UNSURE);
    await recordEvent(db, actor, {
      ...facts,
      action: e instanceof RegistryError && e.exitCode === 3 && e.code === "refused" ? actions.refused : actions.failed,
      outcome: e instanceof RegistryError && e.code === "refused" ? "refused" : "failed",
      correlationId,
      details: { ...facts.details, error: { code: (failure as RegistryError).code ?? "unexpected", message: failure.message } },
    }).catch((auditError) => {
      // The failure itself cannot be recorded: say so, with the reason the change stopped.
      if (failure instanceof DatabaseUnavailableError) throw failure;
      throw isUnreachable(auditError)
        ? unavailable(auditError, "Its outcome could not be recorded in the audit log", ` ${failure.message}`)
        : auditError;
    });
    throw failure;
  }
}

const UNCHANGED = " Production was left as it was; try again when the database is back.";
const UNSURE =
  " If both aliases were already replaced, the crash journal beside them makes the next start or change (with the database back) finish and record it.";

/** `e` as it is told: a database that went away becomes DatabaseUnavailableError, anything else is kept. */
function unavailable(e: unknown, what: string, tail: string): Error {
  if (e instanceof DatabaseUnavailableError || !isUnreachable(e)) return e as Error;
  return new DatabaseUnavailableError(`${what}: the database cannot be reached.${tail}`, { cause: e });
}

/**
 * Start-up repair, for the CLI and the server: when a crash left a journal or temp files, finishes the
 * interrupted change under the lock and audits it; then closes any intent that has no completion by
 * comparing it with what production now holds. Does nothing (and takes no lock) on a clean registry.
 */
export async function repairOnStart(root: string, actor: Actor): Promise<void> {
  if (!needsRecovery(root)) return;
  const db = openAudit(root);
  // Intents are judged under the lock, after the repair: a change in flight elsewhere holds the lock.
  await recoverInterrupted(root, {
    onRecovered: (r) => recordRecovery(db, actor, r),
    underLock: () => closeDanglingIntents(db, root, actor),
  });
}

async function recordRecovery(db: AuditDb, actor: Actor, r: Recovery): Promise<void> {
  const j = r.journal;
  const details = { action: r.action, reason: r.reason, removedTemps: r.removedTemps };
  if (!j) {
    // Which change it was is unknown: recorded as a recovery that failed, with what was done instead.
    await recordEvent(db, actor, { action: "model.change_recovered", outcome: "failed", reason: r.reason, details });
    return;
  }
  // Killed after its completion was recorded but before the journal was removed: nothing left to say.
  if (j.tag && (await db.auditEvent.count({ where: { correlationId: j.tag, outcome: "succeeded" } }))) return;
  const forward = r.action === "rolled_forward";
  const interrupted = `An interrupted ${j.kind} to ${j.to} (started ${j.startedAt} by pid ${j.pid})`;
  await recordEvent(db, actor, {
    action: forward ? "model.change_recovered" : ACTIONS[j.kind].failed,
    outcome: forward ? "recovered" : "failed",
    correlationId: j.tag ?? randomUUID(),
    from: { stem: j.from, sha256: j.fromSha256 ?? null, score: null },
    to: { stem: j.to, sha256: j.files.find((f) => f.alias.startsWith("models/"))?.sha256 ?? null, score: null },
    reason: forward
      ? `An interrupted ${j.kind} (started ${j.startedAt} by pid ${j.pid}) was completed at start-up: both aliases now hold ${j.to}.`
      : r.action === "incomplete"
        ? `${interrupted} could only be partly completed at start-up (${r.reason}): production is an inconsistent pair until it is promoted again.`
        : r.reason
          ? `${interrupted} could not be completed at start-up (${r.reason}); it was abandoned with no alias changed, its temp files were removed and production was left as it was.`
          : `${interrupted} stopped before any alias changed; its temp files were removed and production was left as it was.`,
    details: { ...details, kind: j.kind },
  });
}

async function closeDanglingIntents(db: AuditDb, root: string, actor: Actor): Promise<void> {
  const intents = await db.auditEvent.findMany({ where: { outcome: "intent" }, orderBy: { seq: "desc" }, take: 20 });
  if (intents.length === 0) return;
  const closed = new Set(
    (
      await db.auditEvent.findMany({
        where: { correlationId: { in: intents.map((i) => i.correlationId) }, outcome: { not: "intent" } },
        select: { correlationId: true },
      })
    ).map((e) => e.correlationId),
  );
  const open = intents.filter((i) => !closed.has(i.correlationId));
  if (open.length === 0) return;
  const { production } = await scanForPlan(root);
  for (const i of open) {
    const landed = production.sha256 === i.toSha256;
    await recordEvent(db, actor, {
      action: landed
        ? "model.change_recovered"
        : i.action === "model.rollback_started"
          ? "model.rollback_failed"
          : "model.promotion_failed",
      outcome: landed ? "recovered" : "failed",
      correlationId: i.correlationId,
      from: { stem: i.fromStem, sha256: i.fromSha256, score: i.fromScore },
      to: { stem: i.toStem, sha256: i.toSha256, score: i.toScore },
      metric: i.metric,
      reason: landed
        ? `Event #${i.seq} stopped before its completion was recorded; production holds ${i.toStem}, so it did complete.`
        : `Event #${i.seq} stopped before completion and production does not hold ${i.toStem}: it did not take effect.`,
      details: { kind: i.action === "model.rollback_started" ? "rollback" : "promote", intent: i.seq },
    });
  }
}

function staleness(plan: Plan, expected: NonNullable<ReleaseOptions["expected"]>): RegistryError | null {
  if (plan.current.sha256 !== expected.productionSha256) return new ProductionChangedError(expected.productionSha256, plan.current.sha256);
  if (expected.targetSha256 !== undefined && plan.target.sha256 !== expected.targetSha256) {
    return new SourceChangedError(`${plan.target.stem} changed on disk since the preview: nothing was written. Review it again.`);
  }
  return null;
}

function factsOf(plan: Plan) {
  return {
    from: { stem: plan.current.stem, sha256: plan.current.sha256, score: plan.current.score },
    to: { stem: plan.target.stem, sha256: plan.target.sha256, score: plan.target.metric === "unknown" ? null : plan.target.score },
    metric: plan.target.metric,
    reason: plan.reason,
    checks: plan.checks,
    details: {
      files: plan.files,
      overrides: plan.overrides,
      minScore: plan.minScore,
      productionState: plan.current.state,
      metricChanges: plan.metricChanges,
      ...(plan.rollback
        ? { rollback: { finding: plan.rollback.code, explanation: plan.rollback.explanation, timesLive: plan.rollback.total } }
        : {}),
      ...(plan.refusalCode ? { refusalCode: plan.refusalCode } : {}),
    } as Record<string, unknown>,
  };
}
