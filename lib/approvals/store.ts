import type { Actor, AuditDb, EventInput } from "@/lib/audit";
import { recordEvent } from "@/lib/audit/log";
import type { ApprovalRequest } from "@/lib/generated/prisma/client";
import type { Check } from "@/lib/registry/checks";
import type { FileChange, Override } from "@/lib/registry/plan";
import { personOfAccount } from "./people";
import type { RequestFacts, RequestState } from "./rules";

// Approval requests in the database: reading them, and the state changes that must happen once.

export interface Person {
  accountId: number | null;
  username: string;
  person: string;
}

/** A request as pages and the CLI show it. */
export interface RequestView {
  id: number;
  uid: string;
  kind: "promote" | "rollback";
  state: RequestState;
  targetStem: string;
  targetSha256: string;
  targetScore: number | null;
  metric: string | null;
  fromStem: string | null;
  productionSha256: string | null;
  fromScore: number | null;
  minScore: number;
  overrides: Override[];
  checks: Check[];
  files: FileChange[];
  reason: string;
  requester: Person;
  source: string;
  createdAt: string;
  expiresAt: string;
  decider: Person | null;
  decisionReason: string | null;
  decidedAt: string | null;
  releaseCorrelationId: string | null;
  outcome: string | null;
}

export function toView(r: ApprovalRequest): RequestView {
  return {
    id: r.id,
    uid: r.uid,
    kind: r.kind === "rollback" ? "rollback" : "promote",
    state: r.state as RequestState,
    targetStem: r.targetStem,
    targetSha256: r.targetSha256,
    targetScore: r.targetScore,
    metric: r.metric,
    fromStem: r.fromStem,
    productionSha256: r.productionSha256,
    fromScore: r.fromScore,
    minScore: r.minScore,
    overrides: parseList<Override>(r.overrides),
    checks: parseList<Check>(r.checks),
    files: parseList<FileChange>(r.files),
    reason: r.reason,
    requester: { accountId: r.requesterId, username: r.requesterName, person: r.requesterPerson },
    source: r.source,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    decider: r.deciderName ? { accountId: r.deciderId, username: r.deciderName, person: r.deciderPerson ?? "" } : null,
    decisionReason: r.decisionReason,
    decidedAt: r.decidedAt,
    releaseCorrelationId: r.releaseCorrelationId,
    outcome: r.outcome,
  };
}

function parseList<T>(text: string): T[] {
  try {
    const v = JSON.parse(text);
    return Array.isArray(v) ? (v as T[]) : [];
  } catch {
    return [];
  }
}

/** The facts the pure rule needs, with the requester's person as it is now. Reads only. */
export async function factsOf(db: AuditDb, r: RequestView): Promise<RequestFacts> {
  const now = r.requester.accountId === null ? null : await personOfAccount(db, r.requester.accountId);
  return { id: r.id, state: r.state, expiresAt: r.expiresAt, requester: r.requester, requesterPersonNow: now };
}

/** The audit event fields every event about a request shares: its versions, checks and id. */
export function eventOf(r: RequestView): Pick<EventInput, "correlationId" | "from" | "to" | "metric" | "checks"> & {
  details: Record<string, unknown>;
} {
  return {
    // Every approval event of one request shares its uid, so an auditor sees the request's whole story.
    correlationId: r.uid,
    from: { stem: r.fromStem, sha256: r.productionSha256, score: r.fromScore },
    to: { stem: r.targetStem, sha256: r.targetSha256, score: r.targetScore },
    metric: r.metric,
    checks: r.checks,
    details: {
      requestId: r.id,
      kind: r.kind,
      requestedBy: r.requester.username,
      requestedAt: r.createdAt,
      expiresAt: r.expiresAt,
      overrides: r.overrides,
      files: r.files,
    },
  };
}

const OPEN: RequestState[] = ["pending", "approving"];
const SYSTEM_NAME = "system";

/**
 * Marks every pending request whose time is up as expired, recording `approval.expired` once per
 * request: the state change is one conditional UPDATE, and only the caller that made it records the
 * event, so two processes observing the same expiry record it once. Called lazily wherever requests
 * are read or decided.
 */
export async function expireDue(db: AuditDb, now: Date, source: Actor["source"]): Promise<number> {
  const at = now.toISOString();
  const due = await db.approvalRequest.findMany({ where: { state: "pending", expiresAt: { lte: at } }, orderBy: { id: "asc" }, take: 200 });
  let expired = 0;
  for (const row of due) {
    const claimed = await db.approvalRequest.updateMany({
      where: { id: row.id, state: "pending" },
      data: { state: "expired", decidedAt: at, outcome: `Expired at ${row.expiresAt} without a decision.` },
    });
    if (claimed.count !== 1) continue;
    expired++;
    const r = toView(row);
    const e = eventOf(r);
    await recordEvent(
      db,
      { name: SYSTEM_NAME, role: SYSTEM_NAME, source },
      {
        ...e,
        action: "approval.expired",
        outcome: "failed",
        reason: `Request #${r.id} (${r.kind} ${r.targetStem}, by ${r.requester.username}) expired at ${r.expiresAt} without a decision: nothing was changed.`,
        details: { ...e.details, observedAt: at },
      },
    );
  }
  return expired;
}

/** One request, or null. Reads only. */
export async function findRequest(db: AuditDb, id: number): Promise<RequestView | null> {
  if (!Number.isSafeInteger(id) || id < 1) return null;
  const row = await db.approvalRequest.findUnique({ where: { id } });
  return row ? toView(row) : null;
}

/** Pending (and being applied) requests, oldest first; expires what is due first. */
export async function openRequests(db: AuditDb, now: Date, source: Actor["source"], limit = 100): Promise<RequestView[]> {
  await expireDue(db, now, source);
  await resolveInterrupted(db, now);
  const rows = await db.approvalRequest.findMany({ where: { state: { in: OPEN } }, orderBy: { id: "asc" }, take: limit });
  return rows.map(toView);
}

/** The latest decided requests, newest first. Reads only. */
export async function closedRequests(db: AuditDb, limit = 20): Promise<RequestView[]> {
  const rows = await db.approvalRequest.findMany({ where: { state: { notIn: OPEN } }, orderBy: { id: "desc" }, take: limit });
  return rows.map(toView);
}

/** How many requests wait for a second releaser; expires what is due first. */
export async function countPending(db: AuditDb, now: Date, source: Actor["source"]): Promise<number> {
  await expireDue(db, now, source);
  return db.approvalRequest.count({ where: { state: "pending" } });
}

/** Ends a request that is being applied, recording how; only from "approving". */
export async function finishApproving(
  db: AuditDb,
  id: number,
  state: Extract<RequestState, "approved" | "stale" | "refused" | "failed">,
  fields: { outcome?: string | null; releaseCorrelationId?: string | null },
): Promise<void> {
  await db.approvalRequest.updateMany({
    where: { id, state: "approving" },
    data: { state, outcome: fields.outcome ?? null, releaseCorrelationId: fields.releaseCorrelationId ?? null },
  });
}

// A release takes seconds; a request still "approving" after this long was interrupted (a crash).
const INTERRUPTED_MS = 10 * 60_000;

/**
 * Settles requests left "approving" by a process that died while applying them: approved when the audit
 * log shows their release completed (its intent carries the request's uid; its completion or start-up
 * recovery shares the intent's correlation id), failed otherwise. Lazily, like expiry.
 */
export async function resolveInterrupted(db: AuditDb, now: Date): Promise<void> {
  const before = new Date(now.getTime() - INTERRUPTED_MS).toISOString();
  const stuck = await db.approvalRequest.findMany({ where: { state: "approving", decidedAt: { lte: before } }, take: 20 });
  for (const row of stuck) {
    const intent = await db.auditEvent.findFirst({
      where: { outcome: "intent", details: { contains: row.uid } },
      orderBy: { seq: "desc" },
    });
    const done = intent
      ? await db.auditEvent.findFirst({ where: { correlationId: intent.correlationId, outcome: { in: ["succeeded", "recovered"] } } })
      : null;
    await finishApproving(
      db,
      row.id,
      done ? "approved" : "failed",
      done
        ? { releaseCorrelationId: done.correlationId }
        : { outcome: "Interrupted while being applied, and the audit log shows no completed change: nothing was changed." },
    );
  }
}

/** The latest emergency rollbacks (applied without approval, flagged for review), newest first. Reads only. */
export async function flaggedEmergencies(db: AuditDb, limit = 20) {
  return db.auditEvent.findMany({
    where: { action: "model.rolled_back", outcome: "succeeded", details: { contains: '"emergency":true' } },
    orderBy: { seq: "desc" },
    take: limit,
  });
}
