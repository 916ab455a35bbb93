import { randomUUID } from "node:crypto";
import { LOCK_KEYS, lockForTransaction, providerOf } from "@/lib/db";
import type { AuditEvent } from "@/lib/generated/prisma/client";
import { type ChainedEvent, type ChainReport, eventHash, GENESIS, type HashedEvent, verifyChain } from "./chain";
import type { AuditDb } from "./db";
import type { Actor, EventInput } from "./events";
import { enqueueDeliveries, notifyEnqueued, type OutboxTx, webhookEventOf } from "./outbox";

export * from "./events";

export type { AuditEvent };

const MAX_APPEND_TRIES = 50;

/** A client or a transaction: what recordEvent writes through (with the outbox's tables). */
export type AuditWriter = Pick<AuditDb, "auditEvent" | "$executeRawUnsafe"> & Partial<Pick<AuditDb, "$transaction">> & OutboxTx;

/**
 * Appends one event to the hash chain: reads the head, links to it, inserts with the next sequence
 * number. `db` may be a transaction, so an event commits (or not) with the change it records. An event
 * webhooks announce (a promotion, a rollback, a refusal of either) also writes its outbox rows in the same
 * transaction: given a client, this opens one.
 * On SQLite, concurrent writers collide on the unique sequence number and retry; on PostgreSQL, where a
 * failed statement spoils its transaction, appends take turns on an advisory lock held to commit, so no
 * two events from any replica or CLI ever share a predecessor.
 */
export async function recordEvent(db: AuditWriter, actor: Actor, input: EventInput): Promise<AuditEvent> {
  const type = webhookEventOf(input);
  const postgres = providerOf(db) === "postgresql";
  if (!type && !postgres) return appendWithRetries(db, actor, input);
  const append = async (tx: AuditWriter) => {
    await lockForTransaction(tx, LOCK_KEYS.auditAppend);
    const event = postgres ? await appendAfterHead(tx, actor, input) : await appendWithRetries(tx, actor, input);
    if (type) await enqueueDeliveries(tx, type, event);
    return event;
  };
  if (!db.$transaction) return append(db);
  const event = await db.$transaction(
    async (tx) => {
      // On SQLite the transaction's first statement writes (a no-op update), so it holds the write lock from
      // the start and no other process appends between reading the head and inserting.
      if (!postgres) await tx.$executeRawUnsafe(`UPDATE "AuditEvent" SET "seq" = "seq" WHERE 1 = 0`);
      return append(tx);
    },
    { maxWait: 15_000, timeout: 20_000 },
  );
  if (type) notifyEnqueued();
  return event;
}

async function appendWithRetries(db: Pick<AuditDb, "auditEvent">, actor: Actor, input: EventInput): Promise<AuditEvent> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await appendAfterHead(db, actor, input);
    } catch (e) {
      if (!isUniqueViolation(e) || attempt >= MAX_APPEND_TRIES) throw e;
      await new Promise((r) => setTimeout(r, Math.random() * 20));
    }
  }
}

async function appendAfterHead(db: Pick<AuditDb, "auditEvent">, actor: Actor, input: EventInput): Promise<AuditEvent> {
  const head = await db.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { seq: true, hash: true } });
  const fields = eventFields((head?.seq ?? 0) + 1, actor, input);
  const prevHash = head?.hash ?? GENESIS;
  return db.auditEvent.create({ data: { ...fields, prevHash, hash: eventHash(prevHash, fields) } });
}

/** The hashed fields of a new event at position `seq`, as every writer of the chain stores them. Pure but for the clock and a fresh id. */
export function eventFields(seq: number, actor: Actor, input: EventInput, at = new Date().toISOString()): HashedEvent {
  return {
    seq,
    at,
    actor: actor.name,
    role: actor.role,
    source: actor.source,
    action: input.action,
    outcome: input.outcome,
    correlationId: input.correlationId ?? randomUUID(),
    fromStem: input.from?.stem ?? null,
    fromSha256: input.from?.sha256 ?? null,
    fromScore: finite(input.from?.score),
    toStem: input.to?.stem ?? null,
    toSha256: input.to?.sha256 ?? null,
    toScore: finite(input.to?.score),
    metric: input.metric ?? null,
    reason: input.reason ?? null,
    checks: JSON.stringify(input.checks ?? []),
    details: JSON.stringify(input.details ?? {}),
  };
}

export interface EventFilter {
  action?: string;
  actor?: string;
  version?: string;
  from?: string;
  to?: string;
  /** The events of one change (its correlation id), e.g. the link the release dialog shows when it is done. */
  correlation?: string;
}

/** A page of events, newest first, with the total that matched. Reads only. */
export async function listEvents(db: AuditDb, filter: EventFilter, page: number, pageSize: number) {
  const where = whereOf(filter);
  const [events, total] = await Promise.all([
    db.auditEvent.findMany({ where, orderBy: { seq: "desc" }, skip: (page - 1) * pageSize, take: pageSize }),
    db.auditEvent.count({ where }),
  ]);
  return { events, total };
}

/**
 * Up to `limit` events older than event `before` (all when null), newest first, with the total that match
 * the filter and the cursor of the next page (null on the last one): the API's paging. Reads only.
 */
export async function eventsBefore(db: AuditDb, filter: EventFilter, before: number | null, limit: number) {
  const where = whereOf(filter);
  const [events, total] = await Promise.all([
    db.auditEvent.findMany({
      where: { ...where, ...(before !== null ? { seq: { lt: before } } : {}) },
      orderBy: { seq: "desc" },
      take: limit + 1,
    }),
    db.auditEvent.count({ where }),
  ]);
  const more = events.length > limit;
  const page = more ? events.slice(0, limit) : events;
  return { events: page, total, nextCursor: more ? String(page.at(-1)?.seq ?? 0) : null };
}

function whereOf(f: EventFilter) {
  return {
    ...(f.action ? { action: f.action } : {}),
    ...(f.actor ? { actor: f.actor } : {}),
    ...(f.version ? { OR: [{ toStem: f.version }, { fromStem: f.version }] } : {}),
    ...(f.correlation ? { correlationId: f.correlation } : {}),
    ...(f.from || f.to ? { at: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lte: f.to } : {}) } } : {}),
  };
}

/** Every event in chain order, for verification and export. Reads only. */
export async function allEvents(db: AuditDb): Promise<AuditEvent[]> {
  return db.auditEvent.findMany({ orderBy: { seq: "asc" } });
}

/** Verifies the whole stored chain (see verifyChain). Reads every event: for the CLI and on request. */
export async function verifyStoredChain(db: AuditDb): Promise<ChainReport> {
  return verifyChain((await allEvents(db)) as ChainedEvent[]);
}

/**
 * Verifies the newest `count` events: each recomputed hash, each link to the event before, and no gap in
 * the sequence up to the head. Cheap enough for every page load at any size; the full check is on request.
 */
export async function verifyRecentChain(db: AuditDb, count: number): Promise<ChainReport & { window: number; total: number }> {
  // Reused while nothing was written: the same head and count, and SQLite's data_version unchanged (it
  // moves whenever another connection, say someone editing the file by hand, commits a change).
  const [total, newest, version] = await Promise.all([
    db.auditEvent.count(),
    db.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { seq: true, hash: true } }),
    dataVersion(db, count),
  ]);
  const key = `${count}:${total}:${newest?.seq}:${newest?.hash}:${version}`;
  const known = recentReports.get(db);
  if (version !== null && known?.key === key) return known.report;
  const report = await verifyWindow(db, count, total);
  recentReports.set(db, { key, report });
  return report;
}

const recentReports = new WeakMap<AuditDb, { key: string; report: ChainReport & { window: number; total: number } }>();

/**
 * SQLite's data_version for this connection; on PostgreSQL, the row versions (xmin) of the window, which
 * change when any of its rows is edited. Null when it cannot be read (then nothing is reused).
 */
async function dataVersion(db: AuditDb, count: number): Promise<string | null> {
  try {
    if (providerOf(db) === "postgresql") {
      const rows = await db.$queryRawUnsafe<{ v: string | null }[]>(
        `SELECT md5(string_agg(xmin::text, ',')) AS v FROM (SELECT xmin FROM "AuditEvent" ORDER BY "seq" DESC LIMIT $1) w`,
        count + 1,
      );
      return rows[0]?.v ?? "empty";
    }
    const rows = await db.$queryRawUnsafe<{ data_version: number | bigint }[]>("PRAGMA data_version");
    return rows[0] ? String(rows[0].data_version) : null;
  } catch {
    return null;
  }
}

async function verifyWindow(db: AuditDb, count: number, total: number): Promise<ChainReport & { window: number; total: number }> {
  const recent = await db.auditEvent.findMany({ orderBy: { seq: "desc" }, take: count + 1 });
  recent.reverse();
  const anchor = recent.length > count ? recent.shift() : undefined;
  const head = recent.at(-1);
  const report = verifyChain(recent as ChainedEvent[], anchor ? { seq: anchor.seq, hash: anchor.hash } : undefined);
  // Rows missing from the middle show up as a head sequence above the row count.
  if (report.ok && head && head.seq !== total) {
    return {
      ok: false,
      count: total,
      problem: {
        seq: head.seq,
        index: recent.length - 1,
        message: `The log holds ${total} events but the newest is #${head.seq}: rows were deleted.`,
      },
      headHash: report.headHash,
      window: recent.length,
      total,
    };
  }
  return { ...report, window: recent.length, total };
}

const CHANGES = ["model.promoted", "model.rolled_back", "model.change_recovered"];

/** The latest `limit` completed changes of production, oldest first: the production timeline. Reads only. */
export async function productionChanges(db: AuditDb, limit = 50): Promise<AuditEvent[]> {
  const latest = await db.auditEvent.findMany({
    where: { action: { in: CHANGES }, outcome: { in: ["succeeded", "recovered"] } },
    orderBy: { seq: "desc" },
    take: limit,
  });
  return latest.reverse();
}

/** When and by whom production was last changed, if the log knows. */
export async function lastChange(db: AuditDb, currentSha256: string | null): Promise<AuditEvent | null> {
  return db.auditEvent.findFirst({
    where: { action: { in: CHANGES }, outcome: { in: ["succeeded", "recovered"] }, toSha256: currentSha256 ?? "" },
    orderBy: { seq: "desc" },
  });
}

function finite(n: number | null | undefined): number | null {
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === "P2002" || /UNIQUE constraint failed/i.test(err?.message ?? "");
}
