import { randomUUID } from "node:crypto";
import { type Actor, type AuditDb, recordEvent } from "@/lib/audit";
import type { WebhookDelivery } from "@/lib/generated/prisma/client";
import { type Attempt, ATTEMPT_TIMEOUT_MS, postSigned } from "./post";
import { open, secretKey } from "./secret-box";
import { nextWaitMs, type Schedule, scheduleFromEnv } from "./schedule";
import { type AddressPolicy, addressPolicy } from "./target";

// The outbox's sending half. Any number of senders may run (the server's loop, `registry webhooks send`
// on another machine of the same database): each delivery is claimed with one conditional UPDATE before
// it is sent, so two never send the same delivery at once. A sender that dies mid-send leaves a claim that
// goes stale after CLAIM_STALE_MS; the delivery is then sent again (at least once: receivers deduplicate by
// X-Registry-Delivery).

export const CLAIM_STALE_MS = ATTEMPT_TIMEOUT_MS * 6;
const PARALLEL = 4;
const BATCH = 50;

export interface SendOptions {
  /** Who the audit log names when a delivery is given up. */
  source: Actor["source"];
  now?: () => Date;
  schedule?: Schedule;
  policy?: AddressPolicy;
  /** Only these deliveries (e.g. the ping `webhooks test` just queued), if due. */
  only?: string[];
}

export interface SendReport {
  delivered: number;
  retrying: number;
  failed: number;
}

const SENDER = (source: Actor["source"]): Actor => ({ name: "webhook-sender", role: "system", source });

/**
 * Sends every due delivery once (a batch of at most 50): claims it, POSTs it signed, records the attempt,
 * and marks it delivered, due again after its backoff, or failed after its last attempt (audited as
 * `webhook.delivery_failed`). Deliveries of disabled webhooks wait. Never throws for a receiver's failure.
 */
export async function sendDue(db: AuditDb, root: string, opts: SendOptions): Promise<SendReport> {
  const now = opts.now ?? (() => new Date());
  const schedule = opts.schedule ?? scheduleFromEnv();
  const policy = opts.policy ?? addressPolicy();
  const at = now();
  const staleBefore = new Date(at.getTime() - CLAIM_STALE_MS).toISOString();
  const due = await db.webhookDelivery.findMany({
    where: {
      ...(opts.only ? { id: { in: opts.only } } : {}),
      webhook: { enabled: true },
      OR: [
        { state: "pending", nextAttemptAt: { lte: at.toISOString() } },
        { state: "sending", claimedAt: { lt: staleBefore } },
      ],
    },
    orderBy: { nextAttemptAt: "asc" },
    take: BATCH,
  });
  const report: SendReport = { delivered: 0, retrying: 0, failed: 0 };
  const queue = [...due];
  const worker = async () => {
    for (let d = queue.shift(); d; d = queue.shift()) {
      const result = await sendOne(db, root, d, { now, schedule, policy, source: opts.source });
      if (result) report[result] += 1;
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return report;
}

/**
 * sendDue until a pass finds nothing due: a backlog of any size in one call. Ends, because a failed
 * attempt is due again only after its backoff. Returns the sum of the passes.
 */
export async function sendAllDue(db: AuditDb, root: string, opts: SendOptions): Promise<SendReport> {
  const total: SendReport = { delivered: 0, retrying: 0, failed: 0 };
  for (;;) {
    const r = await sendDue(db, root, opts);
    if (r.delivered + r.retrying + r.failed === 0) return total;
    total.delivered += r.delivered;
    total.retrying += r.retrying;
    total.failed += r.failed;
  }
}

type Outcome = keyof SendReport;

async function sendOne(
  db: AuditDb,
  root: string,
  d: WebhookDelivery,
  ctx: { now: () => Date; schedule: Schedule; policy: AddressPolicy; source: Actor["source"] },
): Promise<Outcome | null> {
  const claim = randomUUID();
  // The claim: one statement that succeeds only if nobody claimed the row since we read it.
  const won = await db.webhookDelivery.updateMany({
    where: { id: d.id, state: d.state, claim: d.claim },
    data: { state: "sending", claim, claimedAt: ctx.now().toISOString() },
  });
  if (won.count !== 1) return null;
  const attempt = await attemptOnce(db, root, d, ctx.policy);
  return settle(db, d, claim, attempt, ctx);
}

/** One POST of a claimed delivery; a removed webhook or a key that no longer opens its secret is a failed attempt. */
async function attemptOnce(db: AuditDb, root: string, d: WebhookDelivery, policy: AddressPolicy): Promise<Attempt> {
  const hook = await db.webhook.findUnique({ where: { id: d.webhookId } });
  if (!hook) return { status: null, error: "The webhook was removed.", durationMs: 0 };
  let secret: string;
  try {
    secret = open(secretKey(root), hook.secretSealed);
  } catch (e) {
    return { status: null, error: (e as Error).message, durationMs: 0 };
  }
  return postSigned({ url: hook.url, secret, type: d.type, deliveryId: d.id, body: d.payload }, policy);
}

/** Records the attempt and the delivery's new state, under our claim, in one transaction. */
async function settle(
  db: AuditDb,
  d: WebhookDelivery,
  claim: string,
  attempt: Attempt,
  ctx: { now: () => Date; schedule: Schedule; source: Actor["source"] },
): Promise<Outcome | null> {
  const at = ctx.now();
  const attempts = d.attempts + 1;
  const wait = attempt.error === null ? null : nextWaitMs(attempts, ctx.schedule);
  const outcome: Outcome = attempt.error === null ? "delivered" : wait === null ? "failed" : "retrying";
  return db.$transaction(async (tx) => {
    const mine = await tx.webhookDelivery.updateMany({
      where: { id: d.id, claim },
      data: {
        state: outcome === "retrying" ? "pending" : outcome,
        attempts,
        lastStatus: attempt.status,
        lastError: attempt.error,
        nextAttemptAt: wait === null ? at.toISOString() : new Date(at.getTime() + wait).toISOString(),
        deliveredAt: outcome === "delivered" ? at.toISOString() : null,
        claim: null,
        claimedAt: null,
      },
    });
    // Removed meanwhile, or our claim went stale and another sender took it: its record stands.
    if (mine.count !== 1) return null;
    await tx.webhookAttempt.create({
      data: { deliveryId: d.id, at: at.toISOString(), durationMs: attempt.durationMs, status: attempt.status, error: attempt.error },
    });
    if (outcome === "failed") {
      await recordEvent(tx, SENDER(ctx.source), {
        action: "webhook.delivery_failed",
        outcome: "failed",
        reason: `Gave up delivery ${d.id} (${d.type}) to webhook #${d.webhookId} after ${attempts} attempts: ${attempt.error}`,
        details: { webhookId: d.webhookId, deliveryId: d.id, type: d.type, attempts, lastStatus: attempt.status, auditSeq: d.auditSeq },
      });
    }
    return outcome;
  });
}
