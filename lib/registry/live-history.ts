import { InvalidInputError } from "./errors";

/**
 * Which content was production when, read from the changes the audit log recorded. Pure rules over plain
 * records, no I/O: lib/audit/production-history.ts fetches the records, and the rollback rule, "previous
 * production" and "production at time T" are decided here, so the CLI, the web app and an approval flow
 * all answer the same way.
 */

/** One completed change of production (a promotion or a rollback, possibly completed at start-up). */
export interface ProductionChange {
  seq: number;
  /** ISO 8601 UTC, when the change completed. */
  at: string;
  kind: "promote" | "rollback";
  /** Completed at start-up after a crash rather than by the process that began it. */
  recovered: boolean;
  actor: string;
  reason: string | null;
  correlationId: string;
  from: ContentRef;
  to: ContentRef;
  /** The score of what it put live, as recorded (null when unknown). */
  score: number | null;
  metric: string | null;
}

/** Content by hash, with the name it was recorded under. */
export interface ContentRef {
  stem: string | null;
  sha256: string | null;
}

/** How a period of production began. */
export type PeriodStart =
  /** Live when the log began: the alias the first logged change replaced (known by content hash). */
  | { how: "before_log" }
  /** Put there outside the registry (a hand copy), at an unknown time after `after`. */
  | { how: "outside_registry"; after: string }
  | { how: "promoted" | "rolled_back"; change: ProductionChange };

/** A stretch of time during which one content was production. */
export interface LivePeriod extends ContentRef {
  /** When it went live; null when the log cannot say (before it began, or changed outside the registry). */
  since: string | null;
  start: PeriodStart;
  /** When it stopped being live; null while it still is, as far as the log knows. */
  until: string | null;
  /** Replaced outside the registry at an unknown time before `until` (the next change found other bytes). */
  endedOutside: boolean;
}

/** Where a slice of consecutive changes sits in the whole log. */
export interface SliceBounds {
  /** The slice starts at the first change the log records. */
  first: boolean;
  /** The slice ends at the latest change the log records. */
  last: boolean;
}

/**
 * The periods of production a slice of consecutive changes (oldest first) determines: before the first
 * change when the slice starts the log, after each change until the next (or "now" at the end of the log),
 * and a period "changed outside the registry" wherever a change replaced bytes other than those the one
 * before it put live. A period whose end lies beyond the slice is left out.
 */
export function periodsOf(slice: readonly ProductionChange[], bounds: SliceBounds): LivePeriod[] {
  const periods: LivePeriod[] = [];
  const head = slice[0];
  if (!head) return periods;
  if (bounds.first) {
    periods.push({ ...head.from, since: null, start: { how: "before_log" }, until: head.at, endedOutside: false });
  }
  slice.forEach((c, i) => {
    const prev = slice[i - 1];
    if (prev && differs(prev.to, c.from)) {
      const last = periods.at(-1);
      if (last) last.endedOutside = true;
      periods.push({ ...c.from, since: null, start: { how: "outside_registry", after: prev.at }, until: c.at, endedOutside: false });
    }
    const next = slice[i + 1];
    if (!next && !bounds.last) return;
    periods.push({
      ...c.to,
      since: c.at,
      start: { how: c.kind === "promote" ? "promoted" : "rolled_back", change: c },
      until: next?.at ?? null,
      endedOutside: false,
    });
  });
  return periods;
}

// ---- the rollback rule --------------------------------------------------------------------------------

/** What the log recorded about one content hash being production: newest period first, and how many. */
export interface LiveRecord {
  periods: LivePeriod[];
  total: number;
}

/** Where a plan reads what the audit log recorded about content being live (lib/audit implements it). */
export interface LiveHistorySource {
  /** When content with this sha256 was production, newest period first (a bounded number), and how often. */
  liveRecord(sha256: string): Promise<LiveRecord>;
}

/**
 * A history held in memory: the live record of each content hash, from a whole log of changes (oldest
 * first). For tools and tests that have the changes at hand; the audit log reads its own by index.
 */
export function historyOf(changes: readonly ProductionChange[], keep = 10): LiveHistorySource {
  const periods = periodsOf(changes, { first: true, last: true }).reverse();
  return {
    liveRecord: async (sha256) => {
      const mine = periods.filter((p) => p.sha256 === sha256);
      return { periods: mine.slice(0, keep), total: mine.length };
    },
  };
}

export interface RollbackEligibility {
  /** True when a rollback may go back to this content without the score gates. */
  legitimate: boolean;
  /**
   * `was_live`: the audit log records these bytes in production; `live_now`: not recorded, but the alias
   * pair holds exactly this version now (nothing to write); `never_live`: neither, so this is a promotion,
   * with every gate.
   */
  code: "was_live" | "live_now" | "never_live";
  explanation: string;
  target: { stem: string; sha256: string };
  /** When the target's bytes were production, newest first (a bounded number), with the total count. */
  periods: LivePeriod[];
  total: number;
}

/**
 * Decides whether moving `target` into production is a rollback: only content that was production before,
 * proven by the audit log by content hash (a version copied by hand counts once the log recorded it live,
 * e.g. the alias the first logged change replaced). Bytes the alias holds without a record count only
 * when the pair is already whole, so the "rollback" writes nothing: a hand copy is never completed or
 * laundered into the record by a rollback. Pure.
 */
export function rollbackEligibility(
  target: { stem: string; sha256: string },
  production: { stem: string | null; sha256: string | null; state: string },
  record: LiveRecord,
): RollbackEligibility {
  const base = { target: { stem: target.stem, sha256: target.sha256 }, periods: record.periods, total: record.total };
  const latest = record.periods[0];
  if (latest) {
    return {
      ...base,
      legitimate: true,
      code: "was_live",
      explanation: `${target.stem} was production ${record.total === 1 ? "once" : `${record.total} times`} (by content hash, in the audit log); most recently ${describePeriod(latest)}.`,
    };
  }
  if (production.state === "ok" && production.stem === target.stem && production.sha256 === target.sha256) {
    return {
      ...base,
      legitimate: true,
      code: "live_now",
      explanation: `${target.stem} is production now with a consistent alias pair: there is nothing to roll back.`,
    };
  }
  return {
    ...base,
    legitimate: false,
    code: "never_live",
    explanation: `${target.stem} was never production: the audit log records no change that put its bytes (sha256 ${target.sha256.slice(0, 12)}…) live. A rollback only goes back to a version that was live; promote it instead, with every readiness check.`,
  };
}

/** One period in words: "from <since> until <until>, promoted by <actor> (event #seq)", to the second, UTC. */
export function describePeriod(p: LivePeriod): string {
  const since =
    p.start.how === "before_log"
      ? "before the log began"
      : p.start.how === "outside_registry"
        ? `put there outside the registry after ${utc(p.start.after)}`
        : `from ${utc(p.since)}`;
  const until = p.until === null ? "until now" : `${p.endedOutside ? "until some time before" : "until"} ${utc(p.until)}`;
  const by =
    p.start.how === "promoted" || p.start.how === "rolled_back"
      ? `, ${p.start.how === "promoted" ? "promoted" : "rolled back to"} by ${p.start.change.actor} (event #${p.start.change.seq}${p.start.change.recovered ? ", completed at start-up" : ""})`
      : "";
  return `${since} ${until}${by}`;
}

/** An ISO instant as "2026-03-01 12:00:03 UTC". */
function utc(iso: string | null): string {
  return iso ? `${iso.slice(0, 19).replace("T", " ")} UTC` : "an unknown time";
}

/** A period as flat facts, for evidence, JSON output and exports. */
export interface PeriodFacts {
  stem: string | null;
  sha256: string | null;
  since: string | null;
  until: string | null;
  how: PeriodStart["how"];
  by: string | null;
  event: number | null;
  reason: string | null;
  summary: string;
}

export function periodFacts(p: LivePeriod): PeriodFacts {
  const change = p.start.how === "promoted" || p.start.how === "rolled_back" ? p.start.change : null;
  return {
    stem: p.stem,
    sha256: p.sha256,
    since: p.since,
    until: p.until,
    how: p.start.how,
    by: change?.actor ?? null,
    event: change?.seq ?? null,
    reason: change?.reason ?? null,
    summary: describePeriod(p),
  };
}

// ---- production at time T -----------------------------------------------------------------------------

export type ProductionAt =
  | { status: "no_record" }
  | {
      status: "found";
      /** What was production at that instant, as the log recorded it. */
      period: LivePeriod;
      /** Set when the alias was changed by hand around that instant: the bytes the log found next. */
      uncertain: LivePeriod | null;
    };

/**
 * What was production at `instant` (ISO 8601 UTC), from a slice of changes that covers it: the last change
 * at or before the instant and the one after it, or the first change when the instant is before it. Pure.
 */
export function productionAt(slice: readonly ProductionChange[], bounds: SliceBounds, instant: string): ProductionAt {
  const t = Date.parse(instant);
  const periods = periodsOf(slice, bounds);
  const found = periods.find((p) => p.start.how !== "outside_registry" && covers(p, t));
  if (!found) return { status: "no_record" };
  const outside = found.endedOutside ? periods[periods.indexOf(found) + 1] : undefined;
  const uncertain = outside && outside.start.how === "outside_registry" && t > Date.parse(outside.start.after) ? outside : null;
  return { status: "found", period: found, uncertain };
}

function covers(p: LivePeriod, t: number): boolean {
  return (p.since === null || Date.parse(p.since) <= t) && (p.until === null || t < Date.parse(p.until));
}

// ---- previous production ------------------------------------------------------------------------------

/** A version on the line of production: its content and how it first went live on that line. */
export interface LineEntry extends ContentRef {
  /** How it went live; null when the log was not read that far back (see HistoryWindow). */
  start: PeriodStart | null;
}

/** The newest changes of the log, with what the previous-production rule asked about older ones. */
export interface HistoryWindow {
  /** The newest changes, oldest first, up to the latest one the log records. */
  changes: readonly ProductionChange[];
  /** `changes[0]` is the first change the log records. */
  complete: boolean;
  /** What the log holds before `changes[0]` about each asked-for content hash. */
  earlier: ReadonlyMap<string, EarlierFacts>;
}

/** What changes before a window say about one content hash. */
export interface EarlierFacts {
  /** Some change before the window replaced or put live these bytes. */
  seen: boolean;
  /** The latest promotion before the window that put them live. */
  promotion: ProductionChange | null;
}

export type PreviousAnswer =
  | { status: "need_older" }
  | { status: "need_earlier"; sha256: string }
  | { status: "known"; current: LineEntry | null; previous: LineEntry | null; explanation: string };

interface Node extends LineEntry {
  /** The version live before this one on the line; null: none; "unknown": decided before the window. */
  parent: Node | null | "unknown" | Deferred;
}

/**
 * Where a rollback landed when the window alone cannot say (the target is not on the part of the line it
 * shows): decided only if someone needs this entry's ancestry, from facts about the target before the
 * window. Most answers never need it, so most logs are read no further than their newest changes.
 */
interface Deferred {
  deferred: true;
  sha256: string;
  change: ProductionChange;
  /** The latest promotion of the target inside the window, before the rollback. */
  inWindow: Node | undefined;
  /** The walk up the line reached the window's edge: the target may lie above it. */
  maybeAbove: boolean;
}

type Need = { status: "need_older" } | { status: "need_earlier"; sha256: string };

/**
 * The version live immediately before the current production was promoted. Production keeps a line of
 * promotions: each promotion appends the new version after the one it replaced, and a rollback moves back
 * along the line to the target (its latest occurrence at or above the current position; failing that,
 * the line as it stood right after the target's latest promotion; failing that, a new line starting at
 * the target). "Previous" is the entry before the current position, so repeated rollbacks to "previous"
 * keep walking back (B after C, then A) instead of undoing each other, and a promotion after a rollback
 * starts a new line from there, like a browser's history. Bytes found in production that no recorded
 * change put there (a hand copy) count as one more step of the line.
 * Pure: when the window of changes is too short to decide, asks for more (older changes, or facts about a
 * content hash before the window); the caller fetches them and asks again (see findPreviousProduction).
 */
export function previousProduction(window: HistoryWindow, live: ContentRef): PreviousAnswer {
  const { changes } = window;
  const head = changes[0];
  if (!head) {
    return {
      status: "known",
      current: null,
      previous: null,
      explanation: "The audit log records no change of production: it does not know what was live before.",
    };
  }
  let cursor: Node = window.complete
    ? { ...head.from, start: { how: "before_log" }, parent: null }
    : { ...head.from, start: null, parent: "unknown" };
  const promoted = new Map<string, Node>();
  let prevAt: string | null = null;
  for (const c of changes) {
    if (differs(cursor, c.from)) {
      cursor = { ...c.from, start: { how: "outside_registry", after: prevAt ?? c.at }, parent: cursor };
    }
    if (c.kind === "promote") {
      cursor = { ...c.to, start: { how: "promoted", change: c }, parent: cursor };
      if (c.to.sha256) promoted.set(c.to.sha256, cursor);
    } else {
      const back = stepBack(cursor, c, promoted, window);
      if ("status" in back) return back;
      cursor = back;
    }
    prevAt = c.at;
  }
  if (differs(cursor, live)) {
    // What production holds now was never recorded: a hand copy after the last logged change.
    cursor = { ...live, start: { how: "outside_registry", after: prevAt ?? head.at }, parent: cursor };
  }
  const parent = parentOf(cursor, window);
  if (parent === "unknown") return { status: "need_older" };
  if (parent !== null && "status" in parent) return parent;
  const current = entry(cursor);
  if (parent === null || (parent.sha256 === null && parent.stem === null)) {
    return { status: "known", current, previous: null, explanation: noPrevious(cursor, parent) };
  }
  return {
    status: "known",
    current,
    previous: entry(parent),
    explanation: `${parent.stem ?? "(unnamed bytes)"} was live immediately before ${cursor.stem ?? "the current bytes"} ${wentLive(cursor)}.`,
  };
}

/** Where `findPreviousProduction` reads the log from (lib/audit implements it over the database). */
export interface ChangeSource {
  /** The newest `count` changes, oldest first, and whether they reach back to the first one. */
  newest(count: number): Promise<{ changes: ProductionChange[]; complete: boolean }>;
  /** What the changes before change `beforeSeq` say about each of these content hashes. */
  earlier(sha256s: readonly string[], beforeSeq: number): Promise<ReadonlyMap<string, EarlierFacts>>;
}

/**
 * previousProduction over a log read from the newest change backwards, only as far as the answer needs
 * (a handful of changes and a few indexed look-ups in the usual case, whatever the log's size). Reads
 * through `source` only.
 */
export async function findPreviousProduction(
  source: ChangeSource,
  live: ContentRef,
  firstWindow = 16,
): Promise<Extract<PreviousAnswer, { status: "known" }>> {
  for (let count = firstWindow; ; count *= 8) {
    const { changes, complete } = await source.newest(count);
    const earlier = new Map<string, EarlierFacts>();
    for (;;) {
      const answer = previousProduction({ changes, complete, earlier }, live);
      if (answer.status === "known") return answer;
      if (answer.status === "need_older") break;
      // Asked about one target, fetch for every rollback target of the window at once: one round trip.
      const wanted = new Set([answer.sha256]);
      for (const c of changes) if (c.kind === "rollback" && c.to.sha256 && !earlier.has(c.to.sha256)) wanted.add(c.to.sha256);
      const facts = await source.earlier([...wanted], changes[0]?.seq ?? Number.MAX_SAFE_INTEGER);
      for (const sha of wanted) earlier.set(sha, facts.get(sha) ?? { seen: false, promotion: null });
    }
    // A complete window never needs older changes; guard against a source that says otherwise.
    if (complete) throw new Error("findPreviousProduction: a complete window asked for older changes");
  }
}

/** The line entry a rollback to `c.to` lands on, or what must be fetched to know it. */
function stepBack(cursor: Node, c: ProductionChange, promoted: ReadonlyMap<string, Node>, window: HistoryWindow): Node | Need {
  const sha = c.to.sha256;
  let p: Node = cursor;
  for (;;) {
    if (sameContent(p, c.to)) return p;
    const up = parentOf(p, window);
    if (up === null || up === "unknown") {
      const inWindow = sha === null ? undefined : promoted.get(sha);
      // Reached the root of the line: the latest promotion of the target decides, if the window holds it.
      if (up === null && inWindow) return inWindow;
      if (window.complete || sha === null) {
        if (up === "unknown") return { ...c.to, start: null, parent: "unknown" };
        return { ...c.to, start: rootStart(c, window), parent: null };
      }
      return { ...c.to, start: null, parent: { deferred: true, sha256: sha, change: c, inWindow, maybeAbove: up === "unknown" } };
    }
    if ("status" in up) return up;
    p = up;
  }
}

/** A node's parent, deciding a deferred one from the facts the window carries (or asking for them). */
function parentOf(n: Node, window: HistoryWindow): Node | null | "unknown" | Need {
  for (;;) {
    const p = n.parent;
    if (p === null || p === "unknown" || !("deferred" in p)) return p;
    const facts = window.earlier.get(p.sha256);
    if (!facts) return { status: "need_earlier", sha256: p.sha256 };
    // Seen before the window: it may be on the line above the window's edge, which only older changes show.
    if (p.maybeAbove && facts.seen) return "unknown";
    if (p.inWindow) {
      n.start = p.inWindow.start;
      n.parent = p.inWindow.parent;
    } else if (facts.promotion) {
      const e = facts.promotion;
      n.start = { how: "promoted", change: e };
      n.parent = { ...e.from, start: null, parent: "unknown" };
    } else {
      n.start = rootStart(p.change, window);
      n.parent = null;
    }
  }
}

/** How a rollback target with nothing recorded before it on the line went live. */
function rootStart(c: ProductionChange, window: HistoryWindow): PeriodStart {
  const first = window.complete ? window.changes[0] : undefined;
  return first !== undefined && sameContent(first.from, c.to) ? { how: "before_log" } : { how: "rolled_back", change: c };
}

/** Same bytes: by hash when both are known, else (an old record without a hash) by the recorded name. */
function sameContent(a: ContentRef, b: ContentRef): boolean {
  if (a.sha256 !== null && b.sha256 !== null) return a.sha256 === b.sha256;
  return a.sha256 === b.sha256 && a.stem === b.stem;
}

/** Known to be other bytes: a hash or "nothing" on one side, different from the other's. */
function differs(a: ContentRef, b: ContentRef): boolean {
  const unknown = (r: ContentRef) => r.sha256 === null && r.stem !== null;
  return !unknown(a) && !unknown(b) && a.sha256 !== b.sha256;
}

function entry(n: Node): LineEntry {
  return { stem: n.stem, sha256: n.sha256, start: n.start };
}

function wentLive(n: Node): string {
  const s = n.start;
  if (s?.how === "promoted") return `was promoted (event #${s.change.seq}, ${utc(s.change.at)}, by ${s.change.actor})`;
  if (s?.how === "outside_registry") return `was copied into production outside the registry (after ${utc(s.after)})`;
  return "went live";
}

function noPrevious(cursor: Node, parent: Node | null): string {
  const name = cursor.stem ?? "The current bytes";
  if (parent !== null) return `Nothing was in production before ${name} ${wentLive(cursor)}.`;
  if (cursor.start?.how === "before_log") {
    return `${name} has been on the line of production since before the audit log began: the log does not know what was live before it.`;
  }
  return `${name} was rolled back to without a recorded promotion: the audit log does not know what was live before it.`;
}

// ---- instants -----------------------------------------------------------------------------------------

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * Parses an ISO 8601 date-time with a zone (`2026-03-01T12:00:00Z`, `2026-03-01T14:00:00.5+02:00`) into
 * ISO UTC with milliseconds. `zoneless: "utc"` also reads a date-time without a zone as UTC (what a
 * browser's date-time input sends). Strict: no other shape, no day 31 in April, no second 60. Throws
 * InvalidInputError saying what is accepted.
 */
export function parseInstant(text: string, options: { zoneless?: "refuse" | "utc"; label?: string } = {}): string {
  const label = options.label ?? "The date-time";
  const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
  const bad = (why: string) =>
    new InvalidInputError(
      `${label} ${shown} ${why}: write an ISO 8601 date-time with its zone, e.g. 2026-03-01T12:00:00Z or 2026-03-01T14:00:00+02:00.`,
    );
  const m = INSTANT.exec(text);
  if (!m) return fail(bad("is not an ISO 8601 date-time"));
  const [, y, mo, d, h, mi, s = "0", frac = "", zone] = m;
  if (!zone && options.zoneless !== "utc") return fail(bad("has no zone (Z or ±HH:MM)"));
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return fail(bad("is not a calendar date"));
  if (hour > 23 || minute > 59 || second > 59) return fail(bad("is not a time of day"));
  let offset = 0;
  if (zone && zone !== "Z") {
    const [oh, om] = zone.slice(1).split(":").map(Number) as [number, number];
    if (oh > 23 || om > 59) return fail(bad("has an impossible zone offset"));
    offset = (zone.startsWith("-") ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offset, second, Math.floor(Number(`0.${frac || "0"}`) * 1000));
  return date.toISOString();
}

function fail(e: Error): never {
  throw e;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !leap(year) ? 1 : 0);
}

function leap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}
