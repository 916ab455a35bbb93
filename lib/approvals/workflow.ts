import { randomUUID } from "node:crypto";
import { type Actor, type AuditDb, openAudit } from "@/lib/audit";
import { type ReleaseOutcome, type ReleaseStatus, release } from "@/lib/release";
import { lastChange, recordEvent } from "@/lib/audit/log";
import { previousProduction, productionHistory } from "@/lib/audit/production-history";
import { can } from "@/lib/auth/roles";
import {
  type ChangeRequest,
  InvalidInputError,
  type Plan,
  ProductionChangedError,
  RefusedError,
  SourceChangedError,
  planFromDisk,
} from "@/lib/registry";
import { loadCheckPolicyOf, readSettings, type SettingValues, valuesOf } from "@/lib/settings/settings";
import { trustPolicy } from "@/lib/trust/trust-list";
import { AccountRequiredError, ApprovalRefusedError, NotAuthorisedError, RequestStaleError, UnknownRequestError } from "./errors";
import type { Identity } from "./people";
import { decide, emergencyRollback, isExpired, mayWithdraw, staleness, type Verdict } from "./rules";
import { eventOf, expireDue, factsOf, findRequest, finishApproving, type RequestView, resolveInterrupted, toView } from "./store";

/** Who asks for a change: the audit actor, and the account behind it when there is one. */
export interface Requester {
  actor: Actor;
  /** Null for the CLI's bare --actor: enough when approvals are off, refused when they are required. */
  identity: Identity | null;
  /** The operating-system user of a CLI process, recorded with or without an account. */
  osUser?: string;
}

/** The audit actor of an identity: its username, its roles, its door. */
export function actorOf(who: Identity): Actor {
  return { name: who.username, role: who.roles.join(",") || "none", source: who.source };
}

export type Route =
  | { route: "direct" }
  | { route: "request"; ttlHours: number }
  | { route: "emergency"; liveSince: string; windowMinutes: number; previousStem: string };

/**
 * How a planned change would go through: applied at once (approvals off), as a request for a second
 * releaser, or as an emergency rollback that skips approval and is flagged. Reads the audit log only.
 */
export async function routeFor(db: AuditDb, plan: Plan, settings: SettingValues, now: Date): Promise<Route> {
  if (settings.approvals === "off") return { route: "direct" };
  const windowMinutes = settings.emergencyRollbackMinutes;
  if (plan.kind === "rollback" && windowMinutes > 0) {
    // The version live just before the current one is the audit log's answer (lib/audit/log.ts); its
    // exact meaning belongs to the rollback rule, and this follows it.
    const [answer, live] = await Promise.all([
      previousProduction(db, { stem: plan.current.stem, sha256: plan.current.sha256 }),
      lastChange(db, plan.current.sha256),
    ]);
    const previous = answer.previous;
    const verdict = emergencyRollback(
      {
        kind: plan.kind,
        targetStem: plan.target.stem,
        previousStem: previous?.stem ?? null,
        liveSince: live?.at ?? null,
        liveBy: live ? (live.action === "model.promoted" ? "promote" : live.action === "model.rolled_back" ? "rollback" : "other") : null,
        overrides: plan.overrides.length,
        windowMinutes,
      },
      now,
    );
    if (verdict.ok) return { route: "emergency", liveSince: verdict.liveSince, windowMinutes, previousStem: plan.target.stem };
  }
  return { route: "request", ttlHours: settings.approvalTtlHours };
}

export interface Submission {
  status: ReleaseStatus | "requested";
  plan: Plan;
  /** The release's correlation id in the audit log, or the request's uid. */
  correlationId: string;
  request: RequestView | null;
  emergency: boolean;
}

export interface SubmitOptions {
  /** What the person saw in the preview: refuse when the disk no longer matches it. */
  expected?: { productionSha256: string | null; targetSha256?: string };
  now?: Date;
  env?: Record<string, string | undefined>;
}

/**
 * A releaser's promotion or rollback under the two-person rule. With approvals off, applies it as ever
 * (lib/audit/release.ts). With approvals required: an emergency rollback (see routeFor) is applied with
 * `details.emergency` on its events; anything else becomes a pending request holding its plan (target and
 * production sha256, overrides, checks), audited as `approval.requested`, and nothing is written. A change
 * that would be refused, a no-op or a stale preview is recorded as such and files no request.
 */
export async function submitChange(root: string, change: ChangeRequest, who: Requester, opts: SubmitOptions = {}): Promise<Submission> {
  const db = openAudit(root);
  const read = await readSettings(db, opts.env);
  const settings = valuesOf(read);
  const osUserName = who.osUser ?? who.identity?.osUser;
  // Every event of the change says who ran it and under which rule, and where that rule came from.
  const recorded = {
    ...(osUserName ? { osUser: osUserName } : {}),
    approvals: { mode: read.approvals.value, source: read.approvals.source },
  };
  if (settings.approvals === "off") {
    const outcome = await release(root, change, who.actor, { expected: opts.expected, details: { ...recorded } });
    return { ...outcome, request: null, emergency: false };
  }
  const id = who.identity;
  if (!id) {
    throw new AccountRequiredError(
      "The two-person rule is on: a change needs an account, and a second releaser approves it. Pass --user NAME --password-stdin.",
    );
  }
  if (id.source === "api" && id.accountId === null) {
    // Its maker is only a name (an OS user, or a deleted account): the rule could not tell them from an approver.
    const message = `The two-person rule is on, and token "${id.username}" was made by ${id.madeBy ?? "someone"}, who has no account here: a token asks on its maker's behalf. Have a releaser make it on /admin/tokens or with \`registry tokens create … --user NAME --password-stdin\`.`;
    // Once per token: a pipeline retrying does not grow the log.
    const seen = await db.auditEvent.count({ where: { action: "approval.requested", outcome: "refused", actor: who.actor.name, reason: message } });
    if (seen === 0) {
      await recordEvent(db, who.actor, {
        action: "approval.requested",
        outcome: "refused",
        reason: message,
        details: { code: "account_required", kind: change.kind, version: change.version ?? null, tokenMadeBy: id.madeBy ?? null, ...recorded },
      });
    }
    throw new AccountRequiredError(message);
  }
  if (!can(id.roles, "model.promote"))
    throw new NotAuthorisedError("forbidden", `${id.username} is not a releaser: only releasers may ask for a change.`);
  const now = opts.now ?? new Date();
  await expireDue(db, now, id.source);
  const { plan } = await planFromDisk(root, change, historyFor(db, change), await trustPolicy(db), await loadCheckPolicyOf(root));
  const route = await routeFor(db, plan, settings, now);
  if (route.route === "emergency") {
    const outcome = await release(root, change, actorOf(id), {
      // The emergency was judged against this plan: a production that moves before the lock is refused.
      expected: opts.expected ?? { productionSha256: plan.current.sha256, targetSha256: plan.target.sha256 },
      details: {
        ...recorded,
        emergency: true,
        review: "needed",
        emergencyWindowMinutes: route.windowMinutes,
        productionLiveSince: route.liveSince,
      },
    });
    return { ...outcome, request: null, emergency: true };
  }

  // From here on nothing is applied: a request is filed, or the attempt is recorded and goes no further.
  const uid = randomUUID();
  const facts = {
    correlationId: uid,
    from: { stem: plan.current.stem, sha256: plan.current.sha256, score: plan.current.score },
    to: { stem: plan.target.stem, sha256: plan.target.sha256, score: plan.target.metric === "unknown" ? null : plan.target.score },
    metric: plan.target.metric,
    checks: plan.checks,
    reason: change.reason?.trim() || null,
  };
  // Who asked, as the rule judges it: the person, and a token's maker.
  const asker = { requesterPerson: id.person, ...(id.madeBy ? { tokenMadeBy: id.madeBy } : {}), ...recorded };
  const base = { kind: plan.kind, overrides: plan.overrides, files: plan.files, ...asker };
  const stale = opts.expected ? staleAgainstPreview(plan, opts.expected) : null;
  if (stale) {
    await recordEvent(db, actorOf(id), {
      ...facts,
      action: "approval.requested",
      outcome: "failed",
      details: { ...base, error: { code: stale.code, message: stale.message }, expected: opts.expected },
    });
    throw stale;
  }
  if (plan.noop) {
    await recordEvent(db, actorOf(id), { ...facts, action: "approval.requested", outcome: "noop", details: base });
    return { status: "noop", plan, correlationId: uid, request: null, emergency: false };
  }
  if (!plan.allowed) {
    await recordEvent(db, actorOf(id), {
      ...facts,
      action: "approval.requested",
      outcome: "refused",
      details: { ...base, refusal: plan.refusal },
    });
    return { status: "refused", plan, correlationId: uid, request: null, emergency: false };
  }
  const reason = change.reason?.trim() ?? "";
  if (reason.length < 3) throw new InvalidInputError("A request needs a reason (--reason TEXT): the second releaser reads it.");
  const expiresAt = new Date(now.getTime() + settings.approvalTtlHours * 3_600_000).toISOString();
  const row = await db.approvalRequest.create({
    data: {
      uid,
      kind: plan.kind,
      state: "pending",
      targetStem: plan.target.stem,
      targetSha256: plan.target.sha256,
      targetScore: facts.to.score,
      metric: plan.target.metric,
      fromStem: plan.current.stem,
      productionSha256: plan.current.sha256,
      fromScore: plan.current.score,
      minScore: plan.minScore,
      overrides: JSON.stringify(plan.overrides),
      checks: JSON.stringify(plan.checks),
      files: JSON.stringify(plan.files),
      reason,
      requesterId: id.accountId,
      requesterName: id.username,
      requesterPerson: id.person,
      source: id.source,
      createdAt: now.toISOString(),
      expiresAt,
    },
  });
  const request = toView(row);
  const e = eventOf(request);
  await recordEvent(db, actorOf(id), {
    ...e,
    action: "approval.requested",
    outcome: "succeeded",
    reason,
    details: { ...e.details, ...asker },
  });
  return { status: "requested", plan, correlationId: uid, request, emergency: false };
}

export interface Decided {
  request: RequestView;
  outcome: ReleaseOutcome | null;
}

/**
 * A second releaser approves a pending request: checks the two-person rule (never the requester, not
 * by another account of the same person, only a releaser, not expired), claims the request with one
 * conditional UPDATE (pending → approving: of two approvals at once exactly one proceeds), re-plans
 * against the disk as it is now and refuses, writing nothing, if production or the target changed since
 * the request; otherwise records `approval.approved` and applies the change through release(), with the
 * request on every event it records. Every refusal is audited as `approval.refused`.
 */
export async function approveRequest(
  root: string,
  requestId: number,
  who: Identity,
  reasonText: string,
  opts: { now?: Date } = {},
): Promise<Decided> {
  const db = openAudit(root);
  const now = opts.now ?? new Date();
  const reason = decisionReason(reasonText);
  const r = await requestToDecide(db, requestId, who, reason, now, "approve");
  const claimed = await db.approvalRequest.updateMany({
    where: { id: r.id, state: "pending", expiresAt: { gt: now.toISOString() } },
    data: { state: "approving", ...deciderOf(who), decisionReason: reason, decidedAt: now.toISOString() },
  });
  if (claimed.count !== 1) await enforce(db, r, who, await closedVerdict(db, r.id, now), reason);

  const change: ChangeRequest = { kind: r.kind, version: r.targetStem, minScore: r.minScore, overrides: r.overrides, reason: r.reason };
  const actor = actorOf(who);
  const e = eventOf(r);
  const approval = { requestId: r.id, uid: r.uid, requestedBy: r.requester.username, approvedBy: who.username, approvalReason: reason };
  let plan: Plan;
  try {
    ({ plan } = await planFromDisk(root, change, historyFor(db, change), await trustPolicy(db), await loadCheckPolicyOf(root)));
  } catch (err) {
    await finishApproving(db, r.id, "failed", { outcome: (err as Error).message });
    await recordEvent(db, actor, {
      ...e,
      action: "approval.refused",
      outcome: "refused",
      reason: `Approval of request #${r.id} refused: ${(err as Error).message}`,
      details: { ...e.details, code: "plan_failed", approvalReason: reason },
    });
    throw err;
  }
  const stale = staleness(r, plan);
  if (stale || !plan.allowed) {
    const message = stale
      ? `${stale} Nothing was written; request #${r.id} is stale: ask for the change again.`
      : `${plan.refusal ?? "Refused by a readiness check."} Nothing was written.`;
    await finishApproving(db, r.id, stale ? "stale" : "refused", { outcome: message });
    await recordEvent(db, actor, {
      ...e,
      action: "approval.refused",
      outcome: "refused",
      reason: `Approval of request #${r.id} refused: ${message}`,
      checks: plan.checks,
      details: { ...e.details, code: stale ? "request_stale" : "refused", approvalReason: reason },
    });
    throw stale ? new RequestStaleError(message) : new RefusedError(message);
  }
  await recordEvent(db, actor, {
    ...e,
    action: "approval.approved",
    outcome: "succeeded",
    reason,
    details: { ...e.details, approvedBy: who.username, requestReason: r.reason, ...(who.osUser ? { osUser: who.osUser } : {}) },
  });
  let outcome: ReleaseOutcome;
  try {
    outcome = await release(root, change, actor, {
      expected: { productionSha256: r.productionSha256, targetSha256: r.targetSha256 },
      details: { approval, ...(who.osUser ? { osUser: who.osUser } : {}) },
    });
  } catch (err) {
    const staleNow = err instanceof ProductionChangedError || err instanceof SourceChangedError;
    await finishApproving(db, r.id, staleNow ? "stale" : "failed", { outcome: (err as Error).message });
    throw err;
  }
  const done = outcome.status === "done" || outcome.status === "noop";
  await finishApproving(db, r.id, done ? "approved" : "refused", {
    outcome: done ? null : outcome.plan.refusal,
    releaseCorrelationId: outcome.correlationId,
  });
  return { request: (await findRequest(db, r.id)) ?? r, outcome };
}

/** A second releaser rejects a pending request with a reason (`approval.rejected`); the same rule as approving. */
export async function rejectRequest(
  root: string,
  requestId: number,
  who: Identity,
  reasonText: string,
  opts: { now?: Date } = {},
): Promise<Decided> {
  const db = openAudit(root);
  const now = opts.now ?? new Date();
  const reason = decisionReason(reasonText);
  const r = await requestToDecide(db, requestId, who, reason, now, "reject");
  const claimed = await db.approvalRequest.updateMany({
    where: { id: r.id, state: "pending", expiresAt: { gt: now.toISOString() } },
    data: { state: "rejected", ...deciderOf(who), decisionReason: reason, decidedAt: now.toISOString() },
  });
  if (claimed.count !== 1) await enforce(db, r, who, await closedVerdict(db, r.id, now), reason);
  const e = eventOf(r);
  await recordEvent(db, actorOf(who), {
    ...e,
    action: "approval.rejected",
    outcome: "succeeded",
    reason,
    details: { ...e.details, rejectedBy: who.username, requestReason: r.reason, ...(who.osUser ? { osUser: who.osUser } : {}) },
  });
  return { request: (await findRequest(db, r.id)) ?? r, outcome: null };
}

/** The requester takes a pending request back (`approval.withdrawn`). */
export async function withdrawRequest(
  root: string,
  requestId: number,
  who: Identity,
  reasonText: string | null,
  opts: { now?: Date } = {},
): Promise<Decided> {
  const db = openAudit(root);
  const now = opts.now ?? new Date();
  const reason = reasonText?.trim().slice(0, 2000) || "Withdrawn by the requester.";
  await expireDue(db, now, who.source);
  const r = await findRequest(db, requestId);
  if (!r) throw new UnknownRequestError(requestId);
  await enforce(db, r, who, mayWithdraw(await factsOf(db, r), who), reason);
  const claimed = await db.approvalRequest.updateMany({
    where: { id: r.id, state: "pending" },
    data: { state: "withdrawn", ...deciderOf(who), decisionReason: reason, decidedAt: now.toISOString() },
  });
  if (claimed.count !== 1) await enforce(db, r, who, await closedVerdict(db, r.id, now), reason);
  const e = eventOf(r);
  await recordEvent(db, actorOf(who), { ...e, action: "approval.withdrawn", outcome: "succeeded", reason });
  return { request: (await findRequest(db, r.id)) ?? r, outcome: null };
}

function decisionReason(text: string): string {
  const reason = text.trim();
  if (reason.length < 3) throw new InvalidInputError("Say why, in a few words (--reason TEXT): it goes into the audit log.");
  if (reason.length > 2000) throw new InvalidInputError("A reason is at most 2000 characters.");
  return reason;
}

function deciderOf(who: Identity) {
  return { deciderId: who.accountId, deciderName: who.username, deciderPerson: who.person };
}

/** Why a claim found the request no longer pending (another decision, or its expiry, came first). */
async function closedVerdict(db: AuditDb, id: number, now: Date): Promise<Verdict> {
  const fresh = await findRequest(db, id);
  if (fresh?.state === "pending" && isExpired(fresh.expiresAt, now)) {
    return { ok: false, code: "request_expired", message: `Request #${id} expired at ${fresh.expiresAt}: ask for it again.` };
  }
  return {
    ok: false,
    code: "request_closed",
    message: `Request #${id} is ${fresh?.state ?? "gone"}, not pending: someone else decided it first.`,
  };
}

/**
 * Throws when the verdict refuses, after recording `approval.refused`: once per request, person and
 * refusal, so repeating a refused attempt cannot flood the log.
 */
async function enforce(db: AuditDb, r: RequestView, who: Identity, verdict: Verdict, reason: string): Promise<void> {
  if (verdict.ok) return;
  const actor = actorOf(who);
  const text = `Refused: ${verdict.message}`;
  const seen = await db.auditEvent.count({ where: { action: "approval.refused", correlationId: r.uid, actor: actor.name, reason: text } });
  if (seen === 0) {
    const e = eventOf(r);
    await recordEvent(db, actor, {
      ...e,
      action: "approval.refused",
      outcome: "refused",
      reason: text,
      details: { ...e.details, code: verdict.code, attemptReason: reason.slice(0, 500) },
    });
  }
  throw verdict.code === "forbidden"
    ? new NotAuthorisedError("forbidden", verdict.message)
    : new ApprovalRefusedError(verdict.code, verdict.message);
}

function staleAgainstPreview(plan: Plan, expected: NonNullable<SubmitOptions["expected"]>) {
  if (plan.current.sha256 !== expected.productionSha256) return new ProductionChangedError(expected.productionSha256, plan.current.sha256);
  if (expected.targetSha256 !== undefined && plan.target.sha256 !== expected.targetSha256) {
    return new SourceChangedError(`${plan.target.stem} changed on disk since the preview: nothing was written. Review it again.`);
  }
  return null;
}

/** A rollback's plan needs the log's record of its target (lib/registry/live-history.ts); a promotion's does not. */
function historyFor(db: AuditDb, change: ChangeRequest) {
  return change.kind === "rollback" ? productionHistory(db) : undefined;
}

/**
 * The request a decision is about: due requests expired first (and, before an approval, a claim a crash
 * left open settled), then the two-person rule checked; a refusal is audited and thrown.
 */
async function requestToDecide(
  db: AuditDb,
  requestId: number,
  who: Identity,
  reason: string,
  now: Date,
  decision: "approve" | "reject",
): Promise<RequestView> {
  await expireDue(db, now, who.source);
  if (decision === "approve") await resolveInterrupted(db, now);
  const r = await findRequest(db, requestId);
  if (!r) throw new UnknownRequestError(requestId);
  await enforce(db, r, who, decide(await factsOf(db, r), who, now, decision), reason);
  return r;
}
