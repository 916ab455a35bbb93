import { randomUUID } from "node:crypto";
import type { AuditDb } from "./db";
import { type Actor, recordEvent } from "./log";

// Refusals are evidence, but anyone can cause them: one chained row per refused request let 600 anonymous
// POSTs bury the real history. So refusals are counted per minute in a small table outside the chain
// (RefusalWindow): the first few of each window are chained as they happen, the rest reach the chain as
// one summary row with their count once the window has closed. The chain stays append-only, and every
// refusal is in it or still being counted (the audit page shows both).

/** The audit action of a refusal; its summary rows are `${kind}_aggregated`. */
export type RefusalKind = "auth.denied" | "request.cross_origin" | "api.rate_limited";

export interface Refusal {
  kind: RefusalKind;
  /** The signed-in person refused, or null when nobody was signed in. */
  user: { name: string; role: string } | null;
  /** The client's address as the server sees it (clientAddress()). */
  address: string;
  /** What was attempted: one of our action names ("model.apply"), or a label ("server-action"). */
  action: string;
  /** Written by the server, never copied from the request. */
  reason: string;
  /** A few small facts (the permission, the origin a request came from); each value is cut to size. */
  details?: Record<string, string | number | boolean | null>;
  /** The door it came through (the audit actor's source); "web" unless said. */
  source?: "web" | "api";
}

export const WINDOW_MS = 60_000;
/** How many refusals a window records one by one: a person's name is worth a few rows, an address one. */
export const ONE_BY_ONE = { signedIn: 5, anonymous: 1 } as const;
/** Distinct anonymous (address, action) windows a minute; past that, made-up addresses share one count. */
export const MAX_ANONYMOUS_WINDOWS = 20;
export const MANY_ADDRESSES = "(many addresses)";
// A window is summarised this long after it closed, so a refusal still being written for it is counted once.
const GRACE_MS = 10_000;
// A summary writer that died holding a window's claim gives it up after this long.
const STALE_CLAIM_MS = 120_000;
const FLUSH_BATCH = 50;

/**
 * Records one refusal: chained at once while its window (kind, who, action, minute) is within its
 * one-by-one allowance, else counted. First summarises windows that have closed, so counts reach the
 * chain on the next refusal (or the next look at the audit page). Writes only bounded, validated text.
 */
export async function recordRefusal(db: AuditDb, refusal: Refusal, now: Date = new Date()): Promise<"recorded" | "counted"> {
  await flushRefusals(db, now);
  const at = now.toISOString();
  const windowStart = new Date(Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS).toISOString();
  const action = boundName(refusal.action);
  const actor = refusal.user ? refusal.user.name.slice(0, 120) : "anonymous";
  const role = refusal.user ? refusal.user.role.slice(0, 120) || "none" : "none";
  let address = boundAddress(refusal.address);
  const source = refusal.source ?? "web";
  // An API token and an account may share a name: they are counted (and chained) apart.
  const door = source === "api" ? "api-" : "";
  let key = windowKey(refusal.kind, refusal.user ? `${door}user:${actor}` : `${door}address:${address}`, action);
  if (!refusal.user && (await isNewAnonymousWindowOverCap(db, refusal.kind, key, windowStart))) {
    address = MANY_ADDRESSES;
    key = windowKey(refusal.kind, `${door}address:${address}`, action);
  }
  const oneByOne = refusal.user ? ONE_BY_ONE.signedIn : ONE_BY_ONE.anonymous;
  const reason = refusal.reason.slice(0, 300);
  const details = JSON.stringify(boundDetails(refusal.details));

  // One statement: concurrent refusals of the same window each get their own count.
  const [row] = await db.$queryRaw<{ id: number | bigint; seen: number | bigint }[]>`
    INSERT INTO "RefusalWindow" ("key", "windowStart", "kind", "anonymous", "actor", "role", "address", "action", "reason",
      "details", "oneByOne", "seen", "written", "summarised", "firstAt", "lastAt")
    VALUES (${key}, ${windowStart}, ${refusal.kind}, ${!refusal.user}, ${actor}, ${role}, ${address}, ${action}, ${reason},
      ${details}, ${oneByOne}, 1, 0, 0, ${at}, ${at})
    ON CONFLICT ("key", "windowStart") DO UPDATE SET "seen" = "RefusalWindow"."seen" + 1, "lastAt" = excluded."lastAt"
    RETURNING "id", "seen"`;
  if (!row) throw new Error("RefusalWindow upsert returned no row");
  const id = Number(row.id);
  const seen = Number(row.seen);
  if (seen > oneByOne) return "counted";

  await recordEvent(db, actorOf(actor, role, source), {
    action: refusal.kind,
    outcome: "refused",
    correlationId: `refusals-${id}-${seen}`,
    reason,
    details: {
      ...boundDetails(refusal.details),
      action,
      address,
      window: windowStart,
      ...(seen === oneByOne ? { note: "Further refusals like this one in this minute are counted and written as one summary." } : {}),
    },
  });
  await db.$executeRaw`UPDATE "RefusalWindow" SET "written" = "written" + 1 WHERE "id" = ${id}`;
  return "recorded";
}

/**
 * Writes a summary row into the chain for every window that closed (with refusals not yet in the
 * chain) and forgets the window. Safe to run from several requests or processes at once: a window is
 * claimed by one writer, and a summary found already written (a writer died after writing it) is not
 * written twice. Returns how many summary rows it wrote.
 */
export async function flushRefusals(db: AuditDb, now: Date = new Date()): Promise<number> {
  const closedBy = new Date(now.getTime() - WINDOW_MS - GRACE_MS).toISOString();
  const stale = new Date(now.getTime() - STALE_CLAIM_MS).toISOString();
  let written = 0;
  let after = 0;
  for (;;) {
    const due = await db.refusalWindow.findMany({
      where: { id: { gt: after }, windowStart: { lte: closedBy }, OR: [{ claim: null }, { claimedAt: { lt: stale } }] },
      select: { id: true },
      orderBy: { id: "asc" },
      take: FLUSH_BATCH,
    });
    for (const { id } of due) if (await flushWindow(db, id, now, stale)) written++;
    if (due.length < FLUSH_BATCH) return written;
    after = due.at(-1)?.id ?? after;
  }
}

const timers = new WeakMap<AuditDb, ReturnType<typeof setTimeout>>();

/**
 * Makes sure windows being counted reach the chain once they have closed even if no later refusal or
 * look at the audit page comes: one timer per database in this process (it does not keep the process
 * alive), re-armed while windows remain. For the server; tests and the CLI call flushRefusals.
 */
export function flushRefusalsLater(db: AuditDb): void {
  if (timers.has(db)) return;
  const now = Date.now();
  const closed = Math.floor(now / WINDOW_MS) * WINDOW_MS + WINDOW_MS + GRACE_MS;
  const timer = setTimeout(
    async () => {
      timers.delete(db);
      try {
        await flushRefusals(db);
        if ((await db.refusalWindow.count()) > 0) flushRefusalsLater(db);
      } catch (e) {
        console.error("could not write the refusals counted into the audit log; the next refusal or audit page view will", e);
      }
    },
    closed - now + 1_000,
  );
  timer.unref?.();
  timers.set(db, timer);
}

async function flushWindow(db: AuditDb, id: number, now: Date, stale: string): Promise<boolean> {
  const token = randomUUID();
  const claimed = await db.$executeRaw`
    UPDATE "RefusalWindow" SET "claim" = ${token}, "claimedAt" = ${now.toISOString()}
    WHERE "id" = ${id} AND ("claim" IS NULL OR "claimedAt" < ${stale})`;
  if (claimed !== 1) return false;
  const w = await db.refusalWindow.findUnique({ where: { id } });
  if (!w) return false;
  let wrote = false;
  const pending = w.seen - w.written - w.summarised;
  if (pending > 0) {
    // The summary's id is fixed by how far this window was summarised: a retry finds it instead of repeating it.
    const correlationId = `refusals-${id}-s${w.summarised}`;
    const done = await db.auditEvent.findFirst({ where: { correlationId }, select: { details: true } });
    const count = done ? Number((JSON.parse(done.details) as { count?: unknown }).count) || 0 : pending;
    if (!done) {
      await recordEvent(db, actorOf(w.actor, w.role, w.key.includes("|api-") ? "api" : "web"), {
        action: `${w.kind as RefusalKind}_aggregated`,
        outcome: "refused",
        correlationId,
        reason: summaryReason(w, pending),
        details: {
          ...(JSON.parse(w.details) as Record<string, unknown>),
          action: w.action,
          address: w.address,
          window: { from: w.windowStart, to: new Date(Date.parse(w.windowStart) + WINDOW_MS).toISOString() },
          count: pending,
          inWindow: w.seen,
          oneByOne: w.written,
        },
      });
      wrote = true;
    }
    await db.$executeRaw`UPDATE "RefusalWindow" SET "summarised" = "summarised" + ${count} WHERE "id" = ${id} AND "claim" = ${token}`;
  }
  // Forgotten once all of it is in the chain; a refusal that arrived meanwhile keeps it for the next flush.
  await db.$executeRaw`
    DELETE FROM "RefusalWindow" WHERE "id" = ${id} AND "claim" = ${token} AND "seen" <= "written" + "summarised"`;
  await db.$executeRaw`UPDATE "RefusalWindow" SET "claim" = NULL, "claimedAt" = NULL WHERE "id" = ${id} AND "claim" = ${token}`;
  return wrote;
}

export interface CountingWindow {
  kind: string;
  actor: string;
  address: string;
  action: string;
  windowStart: string;
  lastAt: string;
  /** Refusals in the window not in the chain yet. */
  pending: number;
  /** All refusals in the window, the ones chained one by one included. */
  seen: number;
}

/** The refusals still being counted (not in the chain yet), busiest first. Reads only. */
export async function countingRefusals(db: AuditDb, limit = 50): Promise<{ windows: CountingWindow[]; more: number }> {
  const rows = await db.refusalWindow.findMany({ orderBy: [{ seen: "desc" }, { id: "asc" }], take: 500 });
  const windows = rows
    .map((w) => ({
      kind: w.kind,
      actor: w.actor,
      address: w.address,
      action: w.action,
      windowStart: w.windowStart,
      lastAt: w.lastAt,
      pending: w.seen - w.written - w.summarised,
      seen: w.seen,
    }))
    .filter((w) => w.pending > 0);
  return { windows: windows.slice(0, limit), more: Math.max(0, windows.length - limit) };
}

function summaryReason(
  w: { reason: string; action: string; address: string; anonymous: boolean; windowStart: string; seen: number; written: number },
  count: number,
): string {
  const minute = w.windowStart.slice(11, 16);
  const from = w.anonymous ? ` from ${w.address}` : "";
  return `${count} more like this${from} in the minute from ${minute} UTC (${w.seen} in that minute, ${w.written} recorded one by one): ${w.reason}`;
}

async function isNewAnonymousWindowOverCap(db: AuditDb, kind: RefusalKind, key: string, windowStart: string): Promise<boolean> {
  if (await db.refusalWindow.findUnique({ where: { key_windowStart: { key, windowStart } }, select: { id: true } })) return false;
  const open = await db.refusalWindow.count({ where: { kind, anonymous: true, windowStart } });
  return open >= MAX_ANONYMOUS_WINDOWS;
}

function windowKey(kind: RefusalKind, who: string, action: string): string {
  return `${kind}|${who}|${action}`;
}

function actorOf(name: string, role: string, source: "web" | "api"): Actor {
  return { name, role, source };
}

/** Our action names are short dotted words; anything else is not worth keeping verbatim. */
export function boundName(name: string): string {
  return /^[a-z][a-z0-9._-]{0,63}$/.test(name) ? name : "invalid";
}

/** An IPv4 or IPv6 address (or our own words for none); anything else, say a forged header's junk, is "unknown". */
export function boundAddress(address: string): string {
  return /^[0-9A-Za-z.:_%[\]-]{1,64}$/.test(address) ? address : "unknown";
}

function boundDetails(details: Refusal["details"] = {}): Record<string, string | number | boolean | null> {
  return Object.fromEntries(
    Object.entries(details)
      .slice(0, 10)
      .map(([k, v]) => [k.slice(0, 40), typeof v === "string" ? v.slice(0, 200) : v]),
  );
}
