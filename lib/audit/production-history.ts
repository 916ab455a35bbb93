import type { Prisma } from "@/lib/generated/prisma/client";
import {
  type ChangeSource,
  type ContentRef,
  type EarlierFacts,
  findPreviousProduction,
  type LiveHistorySource,
  type LivePeriod,
  type LiveRecord,
  type PreviousAnswer,
  type ProductionAt,
  type ProductionChange,
  periodsOf,
  productionAt,
} from "@/lib/registry";
import type { AuditDb } from "./db";

/**
 * What the audit log says production was, when: reads completed changes of production from the database
 * (a few indexed look-ups, never the whole log) and leaves every decision to the pure rules in
 * lib/registry/live-history.ts.
 */

const CHANGE_ACTIONS = ["model.promoted", "model.rolled_back", "model.change_recovered"];
const DONE = ["succeeded", "recovered"];
const COMPLETED = { action: { in: CHANGE_ACTIONS }, outcome: { in: DONE } } satisfies Prisma.AuditEventWhereInput;

const FIELDS = {
  seq: true,
  at: true,
  action: true,
  actor: true,
  reason: true,
  correlationId: true,
  fromStem: true,
  fromSha256: true,
  toStem: true,
  toSha256: true,
  toScore: true,
  metric: true,
} satisfies Prisma.AuditEventSelect;

type Row = Prisma.AuditEventGetPayload<{ select: typeof FIELDS }>;

/** How many periods of one content's life in production a plan's evidence carries (the newest). */
export const LIVE_PERIODS_KEPT = 10;

/** The audit log as the history of production: for plans (was the target live?) and "previous production". */
export function productionHistory(db: AuditDb): LiveHistorySource & ChangeSource {
  return {
    liveRecord: (sha256) => liveRecord(db, sha256),
    newest: async (count) => {
      const rows = await completedChanges(db, { order: "desc", take: count });
      return { changes: await toChanges(db, rows.reverse()), complete: rows.length < count };
    },
    earlier: (sha256s, beforeSeq) => earlierFacts(db, sha256s, beforeSeq),
  };
}

/**
 * The version live immediately before the current production was promoted (see previousProduction in
 * lib/registry/live-history.ts for the precise rule), with what production is now on that line. Reads only.
 */
export async function previousProduction(db: AuditDb, live: ContentRef): Promise<Extract<PreviousAnswer, { status: "known" }>> {
  return findPreviousProduction(productionHistory(db), live);
}

/**
 * What was production at `instant` (ISO 8601 UTC) according to the log: the last completed change at or
 * before it and the one after (to know the period's end and spot a hand copy in between), or, before the
 * first change, the alias that change replaced. Reads only.
 */
export async function productionAtInstant(db: AuditDb, instant: string): Promise<ProductionAt> {
  // Two steps, each on its own index: the last event of any kind by then, then the last change up to it.
  const lastEvent = await db.auditEvent.findFirst({
    where: { at: { lte: instant } },
    orderBy: [{ at: "desc" }, { id: "desc" }],
    select: { seq: true },
  });
  const last = lastEvent ? ((await completedChanges(db, { seq: { lte: lastEvent.seq }, order: "desc", take: 1 }))[0] ?? null) : null;
  if (!last) {
    const [first] = await completedChanges(db, { order: "asc", take: 1 });
    return productionAt(await toChanges(db, first ? [first] : []), { first: true, last: false }, instant);
  }
  const [next] = await completedChanges(db, { seq: { gt: last.seq }, order: "asc", take: 1 });
  return productionAt(await toChanges(db, next ? [last, next] : [last]), { first: false, last: !next }, instant);
}

export interface Timeline {
  /** The newest periods of production, newest first. */
  periods: LivePeriod[];
  /** The period before the log began, when older changes lie between it and `periods`. */
  beforeLog: LivePeriod | null;
  /** True when changes older than `periods` exist. */
  truncated: boolean;
}

/** The latest `limit` changes of production as periods, and the period before the log began. Reads only. */
export async function productionTimeline(db: AuditDb, limit = 20): Promise<Timeline> {
  const [rows, first] = await Promise.all([
    completedChanges(db, { order: "desc", take: limit }),
    completedChanges(db, { order: "asc", take: 1 }).then((r) => r[0]),
  ]);
  rows.reverse();
  const complete = rows[0] !== undefined && rows[0].seq === first?.seq;
  const periods = periodsOf(await toChanges(db, rows), { first: complete, last: true }).reverse();
  const beforeLog = !complete && first ? (periodsOf(await toChanges(db, [first]), { first: true, last: false })[0] ?? null) : null;
  return { periods, beforeLog, truncated: !complete && rows.length > 0 };
}

/**
 * Every period during which content with this sha256 was production: before the log began (the alias the
 * first change replaced), after each change that put it live, and after a hand copy the next change found.
 * Newest first, at most LIVE_PERIODS_KEPT of them; `total` counts them all.
 */
async function liveRecord(db: AuditDb, sha256: string): Promise<LiveRecord> {
  const take = LIVE_PERIODS_KEPT;
  const [putLive, replaced, timesPutLive] = await Promise.all([
    db.auditEvent.findMany({ where: { ...COMPLETED, toSha256: sha256 }, orderBy: { seq: "desc" }, take, select: FIELDS }),
    db.auditEvent.findMany({ where: { ...COMPLETED, fromSha256: sha256 }, orderBy: { seq: "desc" }, take, select: FIELDS }),
    db.auditEvent.count({ where: { ...COMPLETED, toSha256: sha256 } }),
  ]);
  // Each change that put it live, with the next change (when it stopped); each change that replaced it,
  // with the change before (was it put there by hand, or before the log began?).
  const slices = await Promise.all([
    ...putLive.map(async (row) => {
      const next = await neighbour(db, row.seq, "after");
      return { rows: next ? [row, next] : [row], bounds: { first: false, last: !next } };
    }),
    ...replaced.map(async (row) => {
      const prev = await neighbour(db, row.seq, "before");
      return { rows: prev ? [prev, row] : [row], bounds: { first: !prev, last: false } };
    }),
  ]);
  const found = new Map<string, LivePeriod>();
  for (const s of slices) {
    for (const p of periodsOf(await toChanges(db, s.rows), s.bounds)) {
      if (p.sha256 === sha256) found.set(`${p.start.how}|${p.since}|${p.until}`, p);
    }
  }
  const periods = [...found.values()].sort((a, b) => endOf(b) - endOf(a));
  const unrecordedStarts = periods.filter((p) => p.start.how === "before_log" || p.start.how === "outside_registry").length;
  return { periods: periods.slice(0, take), total: timesPutLive + unrecordedStarts };
}

/** Newest first: a period still running sorts before every ended one. */
function endOf(p: LivePeriod): number {
  return p.until === null ? Number.POSITIVE_INFINITY : Date.parse(p.until);
}

async function neighbour(db: AuditDb, seq: number, side: "before" | "after"): Promise<Row | null> {
  const [row] = await completedChanges(
    db,
    side === "before" ? { seq: { lt: seq }, order: "desc", take: 1 } : { seq: { gt: seq }, order: "asc", take: 1 },
  );
  return row ?? null;
}

/**
 * Completed changes in chain order, the first `take` from one end of a range. Read once per outcome, so
 * each read walks the (outcome, seq) index in order: with both outcomes in one query SQLite sorts every
 * change of the log to return a few.
 */
async function completedChanges(db: AuditDb, q: { seq?: Prisma.IntFilter; order: "asc" | "desc"; take: number }): Promise<Row[]> {
  const lists = await Promise.all(
    DONE.map((outcome) =>
      db.auditEvent.findMany({
        where: { action: { in: CHANGE_ACTIONS }, outcome, ...(q.seq ? { seq: q.seq } : {}) },
        orderBy: { seq: q.order },
        take: q.take,
        select: FIELDS,
      }),
    ),
  );
  return lists
    .flat()
    .sort((a, b) => (q.order === "asc" ? a.seq - b.seq : b.seq - a.seq))
    .slice(0, q.take);
}

/** For each content hash: was it seen in a change before `beforeSeq`, and its latest promotion there. */
async function earlierFacts(db: AuditDb, sha256s: readonly string[], beforeSeq: number): Promise<Map<string, EarlierFacts>> {
  const shas = [...sha256s];
  const seq = { lt: beforeSeq };
  // Filtered by hash only, the rest here: with the action and outcome in the query, SQLite's planner reads
  // the outcome index (every change) instead of the hash's own. Few events name any one hash.
  const [putLive, replaced] = await Promise.all([
    db.auditEvent.findMany({ where: { toSha256: { in: shas }, seq }, select: { seq: true, toSha256: true, action: true, outcome: true } }),
    db.auditEvent.findMany({ where: { fromSha256: { in: shas }, seq }, select: { fromSha256: true, action: true, outcome: true } }),
  ]);
  const completed = (e: { action: string; outcome: string }) => CHANGE_ACTIONS.includes(e.action) && DONE.includes(e.outcome);
  const seen = new Set([...putLive.filter(completed).map((e) => e.toSha256), ...replaced.filter(completed).map((e) => e.fromSha256)]);
  // Per hash, newest first, up to its latest plain promotion: changes completed at start-up on the way are
  // read too and classified (one may have been a rollback).
  const wanted: number[] = [];
  const decided = new Set<string | null>();
  for (const e of putLive.filter((x) => completed(x) && x.action !== "model.rolled_back").sort((a, b) => b.seq - a.seq)) {
    if (decided.has(e.toSha256)) continue;
    wanted.push(e.seq);
    if (e.action === "model.promoted") decided.add(e.toSha256);
  }
  const rows = wanted.length ? await db.auditEvent.findMany({ where: { seq: { in: wanted } }, select: FIELDS }) : [];
  const promotions = (await toChanges(db, rows)).filter((c) => c.kind === "promote").sort((a, b) => b.seq - a.seq);
  return new Map(shas.map((sha) => [sha, { seen: seen.has(sha), promotion: promotions.find((c) => c.to.sha256 === sha) ?? null }]));
}

/**
 * Rows of completed changes as ProductionChange records. A change completed at start-up says which kind it
 * was in its details; older ones are matched with the intent they completed (same correlation id), which
 * also supplies the replaced bytes' hash a journal repair did not record.
 */
async function toChanges(db: AuditDb, rows: Row[]): Promise<ProductionChange[]> {
  const recovered = rows.filter((r) => r.action === "model.change_recovered");
  const [intents, details] = recovered.length
    ? await Promise.all([
        db.auditEvent.findMany({
          where: { correlationId: { in: recovered.map((r) => r.correlationId) }, outcome: "intent" },
          select: { correlationId: true, action: true, fromStem: true, fromSha256: true },
        }),
        db.auditEvent.findMany({ where: { seq: { in: recovered.map((r) => r.seq) } }, select: { seq: true, details: true } }),
      ])
    : [[], []];
  const intentOf = new Map(intents.map((i) => [i.correlationId, i]));
  const detailsOf = new Map(details.map((d) => [d.seq, d.details]));
  return rows.map((r) => {
    const intent = r.action === "model.change_recovered" ? intentOf.get(r.correlationId) : undefined;
    const from = { stem: r.fromStem ?? intent?.fromStem ?? null, sha256: r.fromSha256 ?? intent?.fromSha256 ?? null };
    return {
      seq: r.seq,
      at: r.at,
      kind: kindOf(r, detailsOf.get(r.seq), intent?.action),
      recovered: r.action === "model.change_recovered",
      actor: r.actor,
      reason: r.reason,
      correlationId: r.correlationId,
      from,
      to: { stem: r.toStem, sha256: r.toSha256 },
      score: r.toScore,
      metric: r.metric,
    };
  });
}

function kindOf(r: Row, details: string | undefined, intentAction: string | undefined): ProductionChange["kind"] {
  if (r.action === "model.promoted") return "promote";
  if (r.action === "model.rolled_back") return "rollback";
  const recorded = (parse(details ?? "{}") as { kind?: unknown } | null)?.kind;
  if (recorded === "promote" || recorded === "rollback") return recorded;
  if (intentAction === "model.rollback_started") return "rollback";
  // Not known: counted as a promotion (it put these bytes live, replacing the ones it names).
  return "promote";
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
