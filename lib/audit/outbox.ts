import { randomUUID } from "node:crypto";
import type { AuditEvent, Prisma } from "@/lib/generated/prisma/client";
import type { EventInput } from "./events";

// The webhook outbox's writing half. It lives beside the audit log because a delivery row is written in
// the same transaction as the audit event it reports: an event that commits is sent (at least once), one
// that rolls back is never announced. Sending is lib/webhooks' job; nothing here opens a connection.

/** The event types a webhook may subscribe to, and `ping` (only ever sent by `webhooks test`). */
export const WEBHOOK_EVENTS = ["model.promoted", "model.rolled_back", "promotion.refused", "rollback.refused"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
export type DeliveryType = WebhookEvent | "ping";

/** What a receiver gets as the body: exactly these bytes, on every attempt. */
export interface WebhookPayload {
  id: string;
  type: DeliveryType;
  occurredAt: string;
  actor: string;
  /** The audit event this reports (its place in the hash chain), null for a ping. */
  auditSeq: number | null;
  data: {
    from: string | null;
    to: string | null;
    fromSha256: string | null;
    toSha256: string | null;
    score: number | null;
    metric: string | null;
    reason: string | null;
    /** Why a refused change was refused, for *.refused events. */
    refusal?: string | null;
  };
}

/**
 * The webhook event an audit event is, or null. A change that a crash interrupted and start-up completed
 * (model.change_recovered, outcome recovered) is reported as the promotion or rollback it was: production
 * changed, and a deployment system must hear of it even though no model.promoted row was written.
 */
export function webhookEventOf(input: Pick<EventInput, "action" | "outcome" | "details">): WebhookEvent | null {
  switch (input.action) {
    case "model.promoted":
      return input.outcome === "succeeded" ? "model.promoted" : null;
    case "model.rolled_back":
      return input.outcome === "succeeded" ? "model.rolled_back" : null;
    case "model.promotion_refused":
      return "promotion.refused";
    case "model.rollback_refused":
      return "rollback.refused";
    case "model.change_recovered":
      if (input.outcome !== "recovered") return null;
      return input.details?.kind === "rollback" ? "model.rolled_back" : "model.promoted";
    default:
      return null;
  }
}

/** The body for an audit event. Pure but for a fresh id. */
export function payloadOf(type: DeliveryType, event: AuditEvent): WebhookPayload {
  const refusal = type.endsWith(".refused") ? refusalText(event.details) : undefined;
  return {
    id: randomUUID(),
    type,
    occurredAt: event.at,
    actor: event.actor,
    auditSeq: event.seq,
    data: {
      from: event.fromStem,
      to: event.toStem,
      fromSha256: event.fromSha256,
      toSha256: event.toSha256,
      score: event.toScore,
      metric: event.metric,
      reason: event.reason,
      ...(refusal === undefined ? {} : { refusal }),
    },
  };
}

export type OutboxTx = Pick<Prisma.TransactionClient, "webhook" | "webhookDelivery">;

/**
 * Writes one pending delivery per enabled webhook subscribed to `type`, due at once. Call it inside the
 * transaction that appends `event`. Returns how many it wrote.
 */
export async function enqueueDeliveries(tx: OutboxTx, type: WebhookEvent, event: AuditEvent): Promise<number> {
  const hooks = (await tx.webhook.findMany({ where: { enabled: true }, select: { id: true, events: true } })).filter((h) =>
    h.events.split(",").includes(type),
  );
  if (hooks.length === 0) return 0;
  const payload = JSON.stringify(payloadOf(type, event));
  const now = new Date().toISOString();
  for (const h of hooks) {
    await tx.webhookDelivery.create({
      data: { id: randomUUID(), webhookId: h.id, type, payload, state: "pending", nextAttemptAt: now, createdAt: now, auditSeq: event.seq },
    });
  }
  return hooks.length;
}

// A sender in this process wakes when a delivery is written here (it also polls, for other processes').
const g = globalThis as unknown as { __outboxListeners?: Set<() => void> };
g.__outboxListeners ??= new Set();
const outboxListeners = g.__outboxListeners;

/** Wakes this process's senders: called once the transaction that wrote deliveries has committed. */
export function notifyEnqueued(): void {
  for (const l of outboxListeners) l();
}

/** Calls `listener` after each enqueue in this process; returns the function that stops it. */
export function onEnqueued(listener: () => void): () => void {
  outboxListeners.add(listener);
  return () => outboxListeners.delete(listener);
}

function refusalText(details: string): string | null {
  try {
    const d = JSON.parse(details) as { refusal?: unknown };
    return typeof d.refusal === "string" ? d.refusal : null;
  } catch {
    return null;
  }
}
