import { can } from "@/lib/auth/roles";
import type { FileChange, Plan } from "@/lib/registry/plan";
import { type Identity, samePerson } from "./people";

// The two-person rule, pure: no database, no disk, no clock but the one passed in.

export const REQUEST_STATES = [
  "pending",
  "approving",
  "approved",
  "rejected",
  "withdrawn",
  "expired",
  "stale",
  "refused",
  "failed",
] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

/** What the rule needs to know about a request. */
export interface RequestFacts {
  id: number;
  state: RequestState | string;
  expiresAt: string;
  requester: { accountId: number | null; username: string; person: string };
  /** The requesting account's person as it is now (an admin may have changed it), when the account exists. */
  requesterPersonNow: string | null;
}

export type Decision = "approve" | "reject";

export type Verdict =
  | { ok: true }
  | { ok: false; code: "forbidden" | "self_approval" | "request_closed" | "request_expired"; message: string };

/** True once a request's expiry has passed. Pure. */
export function isExpired(expiresAt: string, now: Date): boolean {
  return Date.parse(expiresAt) <= now.getTime();
}

/**
 * May `who` approve (or reject) this request now? Only a releaser; never the requester: not the same
 * account, not another account of the same person (by the person now or when they asked); only a
 * pending request that has not expired. Pure.
 */
export function decide(request: RequestFacts, who: Identity, now: Date, decision: Decision): Verdict {
  const verb = decision === "approve" ? "approve" : "reject";
  if (!can(who.roles, "model.promote")) {
    return { ok: false, code: "forbidden", message: `Only a releaser may ${verb} a request; ${who.username} is not one.` };
  }
  const asked = [request.requester.person, request.requesterPersonNow].filter((p): p is string => p !== null);
  if (asked.some((person) => samePerson({ accountId: request.requester.accountId, person }, who))) {
    return {
      ok: false,
      code: "self_approval",
      message:
        decision === "approve"
          ? `Request #${request.id} was made by ${request.requester.username}: the same person cannot approve it. A second releaser must.`
          : `Request #${request.id} is your own: withdraw it instead of rejecting it.`,
    };
  }
  if (request.state !== "pending") {
    return { ok: false, code: "request_closed", message: `Request #${request.id} is ${request.state}, not pending: nothing to ${verb}.` };
  }
  if (isExpired(request.expiresAt, now)) {
    return { ok: false, code: "request_expired", message: `Request #${request.id} expired at ${request.expiresAt}: ask for it again.` };
  }
  return { ok: true };
}

/** May `who` withdraw this request? Only its requester (the same person), while it is pending. Pure. */
export function mayWithdraw(request: RequestFacts, who: Identity): Verdict {
  const asked = [request.requester.person, request.requesterPersonNow].filter((p): p is string => p !== null);
  if (!asked.some((person) => samePerson({ accountId: request.requester.accountId, person }, who))) {
    return {
      ok: false,
      code: "forbidden",
      message: `Only ${request.requester.username}, who made request #${request.id}, may withdraw it.`,
    };
  }
  if (request.state !== "pending") {
    return { ok: false, code: "request_closed", message: `Request #${request.id} is ${request.state}, not pending: nothing to withdraw.` };
  }
  return { ok: true };
}

/** What a request froze of its plan: the approval re-plans and compares. */
export interface PlanSnapshot {
  productionSha256: string | null;
  targetStem: string;
  targetSha256: string;
  files: FileChange[];
}

/**
 * Why a plan made now no longer matches the request, or null when it does: production (either alias)
 * or the target (model or metrics) changed since the request. Pure.
 */
export function staleness(snapshot: PlanSnapshot, plan: Plan): string | null {
  if (plan.current.sha256 !== snapshot.productionSha256) {
    return `Production changed since the request (it held ${short(snapshot.productionSha256)}, now ${short(plan.current.sha256)}${plan.current.stem ? `: ${plan.current.stem}` : ""}).`;
  }
  if (plan.target.sha256 !== snapshot.targetSha256) {
    return `${snapshot.targetStem} changed on disk since the request (model ${short(snapshot.targetSha256)}, now ${short(plan.target.sha256)}).`;
  }
  for (const before of snapshot.files) {
    const now = plan.files.find((f) => f.alias === before.alias);
    if (!now || now.newSha256 !== before.newSha256 || now.currentSha256 !== before.currentSha256) {
      return `${before.alias} would no longer change as the request showed (${short(before.currentSha256)} → ${short(before.newSha256)}).`;
    }
  }
  if (plan.files.length !== snapshot.files.length) return "The files the change replaces are not those of the request.";
  return null;
}

/** Facts for the emergency rule, read by the caller from the plan and the audit log. */
export interface EmergencyFacts {
  kind: Plan["kind"];
  targetStem: string;
  /** The version live before the current one (previousProduction), if the log knows. */
  previousStem: string | null;
  /** When the current production went live (its last completed change), if the log knows. */
  liveSince: string | null;
  /** How it went live: only a fresh promotion can be undone in an emergency, never a rollback. */
  liveBy: "promote" | "rollback" | "other" | null;
  /** Overrides the change needs: an emergency rollback needs none. */
  overrides: number;
  windowMinutes: number;
}

/**
 * May this change skip approval as an emergency rollback? Only a rollback to the version live just
 * before the current one, needing no override, within `windowMinutes` of the current production going
 * live by a promotion (undoing a rollback alone would let one person put back what was just taken off).
 * A window of 0 turns emergencies off. Pure.
 */
export function emergencyRollback(f: EmergencyFacts, now: Date): { ok: true; liveSince: string } | { ok: false; why: string } {
  if (f.windowMinutes <= 0) return { ok: false, why: "emergency rollbacks are turned off" };
  if (f.kind !== "rollback") return { ok: false, why: "only a rollback can be an emergency" };
  if (f.previousStem === null || f.previousStem !== f.targetStem)
    return { ok: false, why: "the target is not the version live just before" };
  if (f.overrides > 0) return { ok: false, why: "it needs an override" };
  if (f.liveSince === null) return { ok: false, why: "the log does not say when the current production went live" };
  if (f.liveBy !== "promote") return { ok: false, why: "the current production did not go live by a promotion" };
  const age = now.getTime() - Date.parse(f.liveSince);
  if (!(age >= 0 && age <= f.windowMinutes * 60_000)) {
    return { ok: false, why: `the current production went live more than ${f.windowMinutes} minutes ago` };
  }
  return { ok: true, liveSince: f.liveSince };
}

function short(sha: string | null): string {
  return sha ? `${sha.slice(0, 12)}…` : "nothing";
}
