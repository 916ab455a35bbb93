import { randomUUID } from "node:crypto";
import { type Actor, type AuditDb, type DeliveryType, recordEvent, WEBHOOK_EVENTS, type WebhookEvent, type WebhookPayload } from "@/lib/audit";
import { InvalidInputError } from "@/lib/registry/errors";
import { PrivateAddressError, UnknownDeliveryError, UnknownWebhookError } from "./errors";
import { secretKey, seal } from "./secret-box";
import { checkTargetUrl } from "./target";

export const MIN_SECRET = 16;
export const MAX_SECRET = 512;

export interface WebhookView {
  id: number;
  url: string;
  events: WebhookEvent[];
  enabled: boolean;
  createdAt: string;
  createdBy: string;
  /** Deliveries by state: pending (incl. sending), delivered, failed. */
  counts: { pending: number; delivered: number; failed: number };
}

export interface AttemptView {
  at: string;
  durationMs: number;
  status: number | null;
  error: string | null;
}

export interface DeliveryView {
  id: string;
  webhookId: number;
  type: string;
  state: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  redeliveryOf: string | null;
  auditSeq: number | null;
  attemptLog: AttemptView[];
}

/** The events a person asked for, checked: at least one, each a known type. Throws InvalidInputError. */
export function parseEvents(names: readonly string[]): WebhookEvent[] {
  const wanted = [...new Set(names.flatMap((n) => n.split(",")).map((n) => n.trim()).filter(Boolean))];
  const unknown = wanted.filter((n) => !(WEBHOOK_EVENTS as readonly string[]).includes(n));
  if (unknown.length) {
    throw new InvalidInputError(`Unknown event ${unknown.map((u) => `"${u.slice(0, 60)}"`).join(", ")}; events are ${WEBHOOK_EVENTS.join(", ")}.`);
  }
  if (wanted.length === 0) throw new InvalidInputError(`Choose at least one event: ${WEBHOOK_EVENTS.join(", ")}.`);
  return WEBHOOK_EVENTS.filter((e) => wanted.includes(e));
}

/** Checks a secret's length; its value is never part of a message. */
export function checkSecret(secret: string): void {
  if (secret.length < MIN_SECRET || secret.length > MAX_SECRET) {
    throw new InvalidInputError(`A webhook secret has ${MIN_SECRET} to ${MAX_SECRET} characters (e.g. \`openssl rand -hex 32\`).`);
  }
}

/** The URL as the audit log records it: a query string may carry a receiver's token, so it is left out. */
export function urlForLog(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}${u.search ? "?…" : ""}`;
}

/**
 * Registers a webhook: checks the URL (scheme, no credentials, the address policy for a literal address),
 * the secret's length and the events; stores the secret encrypted; audits `webhook.created` (URL without
 * its query, events: never the secret) in the same transaction. Returns its view.
 */
export async function addWebhook(
  db: AuditDb,
  root: string,
  actor: Actor,
  input: { url: string; secret: string; events: readonly string[] },
): Promise<WebhookView> {
  const url = await checkedOrAudited(db, actor, input.url.trim());
  const events = parseEvents(input.events);
  checkSecret(input.secret);
  const secretSealed = seal(secretKey(root), input.secret);
  const hook = await db.$transaction(async (tx) => {
    const created = await tx.webhook.create({
      data: { url, secretSealed, events: events.join(","), createdAt: new Date().toISOString(), createdBy: actor.name },
    });
    await recordEvent(tx, actor, {
      action: "webhook.created",
      outcome: "succeeded",
      reason: `Registered webhook #${created.id} for ${events.join(", ")}.`,
      details: { webhookId: created.id, url: urlForLog(url), events },
    });
    return created;
  });
  return { ...viewOf(hook), counts: { pending: 0, delivered: 0, failed: 0 } };
}

/** The URL checked; a URL refused by the address policy is an attempt an auditor should see, so it is recorded. */
async function checkedOrAudited(db: AuditDb, actor: Actor, url: string): Promise<string> {
  try {
    return checkTargetUrl(url);
  } catch (e) {
    if (e instanceof PrivateAddressError) {
      await recordEvent(db, actor, {
        action: "webhook.change_refused",
        outcome: "refused",
        reason: `Refused a webhook to a private, loopback or internal address (REGISTRY_WEBHOOKS_ALLOW_PRIVATE is not set for it).`,
        details: { url: urlForLog(url) },
      });
    }
    throw e;
  }
}

/** Every webhook with its delivery counts, oldest first. Never a secret. Reads only. */
export async function listWebhooks(db: AuditDb): Promise<WebhookView[]> {
  const [hooks, groups] = await Promise.all([
    db.webhook.findMany({ orderBy: { id: "asc" } }),
    db.webhookDelivery.groupBy({ by: ["webhookId", "state"], _count: { _all: true } }),
  ]);
  return hooks.map((h) => {
    const counts = { pending: 0, delivered: 0, failed: 0 };
    for (const g of groups.filter((g) => g.webhookId === h.id)) {
      const key = g.state === "delivered" || g.state === "failed" ? g.state : "pending";
      counts[key] += g._count._all;
    }
    return { ...viewOf(h), counts };
  });
}

/** One webhook, or UnknownWebhookError. Never its secret. Reads only. */
export async function findWebhook(db: AuditDb, id: number): Promise<WebhookView> {
  const found = (await listWebhooks(db)).find((h) => h.id === id);
  if (!found) throw new UnknownWebhookError(id);
  return found;
}

/** Turns a webhook's sending off or on (pending deliveries wait while it is off); audited. Returns whether it changed. */
export async function setWebhookEnabled(db: AuditDb, actor: Actor, id: number, enabled: boolean): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const hook = await tx.webhook.findUnique({ where: { id } });
    if (!hook) throw new UnknownWebhookError(id);
    if (hook.enabled === enabled) return false;
    await tx.webhook.update({ where: { id }, data: { enabled } });
    await recordEvent(tx, actor, {
      action: enabled ? "webhook.enabled" : "webhook.disabled",
      outcome: "succeeded",
      reason: `${enabled ? "Enabled" : "Disabled"} webhook #${id}.`,
      details: { webhookId: id, url: urlForLog(hook.url) },
    });
    return true;
  });
}

/** Removes a webhook with its deliveries and their attempts (and so its encrypted secret); audited. */
export async function removeWebhook(db: AuditDb, actor: Actor, id: number): Promise<void> {
  await db.$transaction(async (tx) => {
    const hook = await tx.webhook.findUnique({ where: { id } });
    if (!hook) throw new UnknownWebhookError(id);
    const deliveries = await tx.webhookDelivery.findMany({ where: { webhookId: id }, select: { id: true } });
    await tx.webhookAttempt.deleteMany({ where: { deliveryId: { in: deliveries.map((d) => d.id) } } });
    await tx.webhookDelivery.deleteMany({ where: { webhookId: id } });
    await tx.webhook.delete({ where: { id } });
    await recordEvent(tx, actor, {
      action: "webhook.removed",
      outcome: "succeeded",
      reason: `Removed webhook #${id} and its ${deliveries.length} deliveries.`,
      details: { webhookId: id, url: urlForLog(hook.url), deliveries: deliveries.length },
    });
  });
}

/** A webhook's latest deliveries (newest first) with every attempt. Reads only. */
export async function listDeliveries(db: AuditDb, webhookId: number, limit = 50): Promise<DeliveryView[]> {
  if (!(await db.webhook.findUnique({ where: { id: webhookId }, select: { id: true } }))) throw new UnknownWebhookError(webhookId);
  const rows = await db.webhookDelivery.findMany({
    where: { webhookId },
    orderBy: [{ createdAt: "desc" }, { id: "asc" }],
    take: limit,
    include: { attemptLog: { orderBy: { id: "asc" } } },
  });
  return rows.map(deliveryView);
}

/** One delivery with its attempts, or UnknownDeliveryError. Reads only. */
export async function findDelivery(db: AuditDb, id: string): Promise<DeliveryView> {
  const row = await db.webhookDelivery.findUnique({ where: { id }, include: { attemptLog: { orderBy: { id: "asc" } } } });
  if (!row) throw new UnknownDeliveryError(id);
  return deliveryView(row);
}

/**
 * Sends a delivery again: a new delivery (a new X-Registry-Delivery id) with the same body, so a receiver
 * that saw the event already can tell by its `id`. Due at once; audited with it in one transaction.
 */
export async function redeliver(db: AuditDb, actor: Actor, deliveryId: string): Promise<DeliveryView> {
  const row = await db.$transaction(async (tx) => {
    const old = await tx.webhookDelivery.findUnique({ where: { id: deliveryId } });
    if (!old) throw new UnknownDeliveryError(deliveryId);
    const now = new Date().toISOString();
    const created = await tx.webhookDelivery.create({
      data: {
        id: randomUUID(),
        webhookId: old.webhookId,
        type: old.type,
        payload: old.payload,
        state: "pending",
        nextAttemptAt: now,
        createdAt: now,
        redeliveryOf: old.id,
        auditSeq: old.auditSeq,
      },
    });
    await recordEvent(tx, actor, {
      action: "webhook.redelivered",
      outcome: "succeeded",
      reason: `Redelivery ${created.id} of ${old.id} (${old.type}) to webhook #${old.webhookId}.`,
      details: { webhookId: old.webhookId, deliveryId: created.id, redeliveryOf: old.id, type: old.type },
    });
    return created;
  });
  return deliveryView({ ...row, attemptLog: [] });
}

/** Queues a `ping` delivery for an enabled webhook, due at once; audited with it in one transaction. */
export async function enqueuePing(db: AuditDb, actor: Actor, webhookId: number): Promise<DeliveryView> {
  const row = await db.$transaction(async (tx) => {
    const hook = await tx.webhook.findUnique({ where: { id: webhookId } });
    if (!hook) throw new UnknownWebhookError(webhookId);
    if (!hook.enabled) throw new InvalidInputError(`Webhook #${webhookId} is disabled: enable it to send a test.`);
    const now = new Date().toISOString();
    const payload: WebhookPayload = {
      id: randomUUID(),
      type: "ping" satisfies DeliveryType,
      occurredAt: now,
      actor: actor.name,
      auditSeq: null,
      data: { from: null, to: null, fromSha256: null, toSha256: null, score: null, metric: null, reason: "A test delivery." },
    };
    const created = await tx.webhookDelivery.create({
      data: { id: randomUUID(), webhookId, type: "ping", payload: JSON.stringify(payload), state: "pending", nextAttemptAt: now, createdAt: now },
    });
    await recordEvent(tx, actor, {
      action: "webhook.tested",
      outcome: "succeeded",
      reason: `Test delivery ${created.id} to webhook #${webhookId}.`,
      details: { webhookId, deliveryId: created.id, url: urlForLog(hook.url) },
    });
    return created;
  });
  return deliveryView({ ...row, attemptLog: [] });
}

function viewOf(h: { id: number; url: string; events: string; enabled: boolean; createdAt: string; createdBy: string }) {
  return {
    id: h.id,
    url: h.url,
    events: h.events.split(",").filter(Boolean) as WebhookEvent[],
    enabled: h.enabled,
    createdAt: h.createdAt,
    createdBy: h.createdBy,
  };
}

function deliveryView(d: {
  id: string;
  webhookId: number;
  type: string;
  state: string;
  attempts: number;
  nextAttemptAt: string;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  redeliveryOf: string | null;
  auditSeq: number | null;
  attemptLog: { at: string; durationMs: number; status: number | null; error: string | null }[];
}): DeliveryView {
  return {
    id: d.id,
    webhookId: d.webhookId,
    type: d.type,
    state: d.state,
    attempts: d.attempts,
    nextAttemptAt: d.state === "pending" ? d.nextAttemptAt : null,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    createdAt: d.createdAt,
    deliveredAt: d.deliveredAt,
    redeliveryOf: d.redeliveryOf,
    auditSeq: d.auditSeq,
    attemptLog: d.attemptLog.map((a) => ({ at: a.at, durationMs: a.durationMs, status: a.status, error: a.error })),
  };
}
