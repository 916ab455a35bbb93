// What an audit event says: the actions, outcomes, actors and the input of one event. Apart from log.ts so
// the modules log.ts uses (the webhook outbox) can name them without importing log.ts back.
import type { Check } from "@/lib/registry";

export const AUDIT_ACTIONS = [
  "model.promotion_started",
  "model.promoted",
  "model.promotion_refused",
  "model.promotion_failed",
  "model.promotion_noop",
  "model.rollback_started",
  "model.rolled_back",
  "model.rollback_refused",
  "model.rollback_failed",
  "model.rollback_noop",
  "model.change_recovered",
  "auth.denied",
  "auth.denied_aggregated",
  "request.rejected",
  "request.cross_origin",
  "request.cross_origin_aggregated",
  "audit.exported",
  "user.created",
  "user.person_changed",
  "approval.requested",
  "approval.approved",
  "approval.rejected",
  "approval.withdrawn",
  "approval.expired",
  "approval.refused",
  "settings.changed",
  "settings.change_refused",
  "user.disabled",
  "user.enabled",
  "user.deleted",
  "user.roles_changed",
  "user.password_reset",
  "user.password_changed",
  "user.change_refused",
  "audit.redacted",
  "webhook.created",
  "webhook.enabled",
  "webhook.disabled",
  "webhook.removed",
  "webhook.change_refused",
  "webhook.redelivered",
  "webhook.tested",
  "webhook.delivery_failed",
  "trust.added",
  "trust.removed",
  "trust.change_refused",
  "token.created",
  "token.revoked",
  "api.rate_limited",
  "api.rate_limited_aggregated",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export type Outcome = "intent" | "succeeded" | "refused" | "failed" | "noop" | "recovered";

/** The door an actor came through: the dashboard, the command line, or the HTTP API with a token. */
export type Source = "web" | "cli" | "api";

export interface Actor {
  name: string;
  role: string;
  source: Source;
}

export interface VersionFacts {
  stem: string | null;
  sha256: string | null;
  score: number | null;
}

export interface EventInput {
  action: AuditAction;
  outcome: Outcome;
  correlationId?: string;
  from?: VersionFacts | null;
  to?: VersionFacts | null;
  metric?: string | null;
  reason?: string | null;
  checks?: Check[];
  details?: Record<string, unknown>;
}

