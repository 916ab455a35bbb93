import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import { InvalidInputError, RefusedError } from "@/lib/registry";
import { type ChainedEvent, eventHash, GENESIS, verifyChain } from "./chain";
import { type Actor, eventFields } from "./log";
import { migrateDatabase } from "./migrate";

/**
 * Taking a secret out of the chained audit log after the fact (issue 16: a password reached it through a
 * refused form). The chain makes every event permanent, so redaction is itself an audited change: the
 * named field of the named events is replaced by a marker, every later event is re-chained, and an
 * `audit.redacted` event records who, when, why, which events, the last unchanged event (the anchor),
 * and the head hash before and after. An export made before no longer matches from the first redacted
 * event on, and that event says why; up to the anchor it still matches. The database file is then
 * compacted so the old text does not survive in free pages or the write-ahead log.
 */
export interface RedactionRequest {
  /** The events to redact, by sequence number. */
  seqs: number[];
  /** `reason`, `details` (the whole object) or `details.KEY` (one top-level key of it). */
  field: string;
  /** Why: required, recorded in the audit.redacted event. */
  reason: string;
  actor: Actor;
  dryRun?: boolean;
}

export interface RedactionOutcome {
  dryRun: boolean;
  redacted: { seq: number; action: string; field: string; oldHash: string; newHash: string }[];
  /** The last event left as it was: an older export still matches up to and including it. */
  anchor: { seq: number; hash: string };
  oldHead: { seq: number; hash: string };
  /** The same last event after re-chaining (the audit.redacted event follows it). */
  newHead: { seq: number; hash: string };
  rechained: number;
  /** The audit.redacted event; null on a dry run. */
  event: { seq: number; hash: string } | null;
  /** Whether the file was rebuilt and its write-ahead log emptied, so no old text remains on disk. */
  compacted: boolean;
}

type Row = ChainedEvent & { id: number };

const PAGE = 2000;
const MARKER = /^\[redacted: see #\d+ audit\.redacted\]$/;
const marker = (eventSeq: number) => `[redacted: see #${eventSeq} audit.redacted]`;

/** The events the pre-issue-16 wrapper left a preview of refused input in (`details.input`). Reads only. */
export function eventsWithRejectedInput(file: string): number[] {
  const db = openFile(file);
  try {
    const rows = db.prepare(`SELECT seq, details FROM "AuditEvent" WHERE action = 'request.rejected' ORDER BY seq`).all() as {
      seq: number;
      details: string;
    }[];
    return rows
      .filter((r) => {
        const input = parseObject(r.details)?.input;
        return input !== undefined && !(typeof input === "string" && MARKER.test(input));
      })
      .map((r) => r.seq);
  } finally {
    db.close();
  }
}

/**
 * Redacts one field of the given events, re-chains every later event and appends the audit.redacted
 * event, all in one write transaction (writers of the chain wait for it, then append after it); then
 * compacts the file. Refuses, changing nothing, without a reason, for an unknown event or field, and
 * when the chain is already broken (re-chaining would hide the damage). A dry run computes the same
 * outcome and writes nothing.
 */
export function redactEvents(file: string, request: RedactionRequest): RedactionOutcome {
  const reason = request.reason.trim();
  if (reason.length < 3) throw new InvalidInputError("Redaction needs --reason TEXT saying why: it goes into the audit log.");
  const field = parseField(request.field);
  const seqs = [...new Set(request.seqs)].sort((a, b) => a - b);
  if (seqs.length === 0) throw new InvalidInputError("Name the events to redact with --seq N (see `registry audit list`).");
  for (const s of seqs) if (!Number.isInteger(s) || s < 1) throw new InvalidInputError(`--seq ${s} is not an event number.`);
  const db = openFile(file);
  try {
    // Freed space in a page is zeroed rather than left holding the old text.
    db.pragma("secure_delete = ON");
    const outcome = db.transaction(() => redactInTransaction(db, seqs, field, reason, request)).immediate();
    if (request.dryRun) return outcome;
    return { ...outcome, compacted: compact(db) };
  } finally {
    db.close();
  }
}

/** Rebuilds the database file and empties its write-ahead log. True when nothing kept it from finishing. */
export function compactDatabase(file: string): boolean {
  const db = openFile(file);
  try {
    return compact(db);
  } finally {
    db.close();
  }
}

function redactInTransaction(
  db: Database.Database,
  seqs: number[],
  field: Field,
  reason: string,
  request: RedactionRequest,
): RedactionOutcome {
  const head = db.prepare(`SELECT seq, hash FROM "AuditEvent" ORDER BY seq DESC LIMIT 1`).get() as
    | { seq: number; hash: string }
    | undefined;
  if (!head) throw new InvalidInputError("The audit log is empty: there is nothing to redact.");
  const broken = verifyAll(db);
  if (broken) {
    throw new RefusedError(
      `The audit chain is already broken (${broken}). Redacting would re-chain over the damage and hide it: nothing was changed. Investigate with \`registry audit verify\` first.`,
    );
  }
  const eventSeq = head.seq + 1;
  const edits = new Map<number, (row: Row) => Row>();
  for (const seq of seqs) {
    const row = db.prepare(`SELECT * FROM "AuditEvent" WHERE seq = ?`).get(seq) as Row | undefined;
    if (!row) throw new InvalidInputError(`There is no event #${seq}: the log holds #1 to #${head.seq}.`);
    edits.set(seq, editFor(row, field, marker(eventSeq)));
  }
  const first = seqs[0] as number;
  const anchor =
    first === 1
      ? { seq: 0, hash: GENESIS }
      : (db.prepare(`SELECT seq, hash FROM "AuditEvent" WHERE seq = ?`).get(first - 1) as { seq: number; hash: string });
  const update = db.prepare(`UPDATE "AuditEvent" SET reason = ?, details = ?, prevHash = ?, hash = ? WHERE id = ?`);
  const page = db.prepare(`SELECT * FROM "AuditEvent" WHERE seq > ? ORDER BY seq LIMIT ${PAGE}`);
  const redacted: RedactionOutcome["redacted"] = [];
  let prev = anchor.hash;
  let after = anchor.seq;
  let rechained = 0;
  for (;;) {
    const rows = page.all(after) as Row[];
    if (rows.length === 0) break;
    for (const old of rows) {
      const edit = edits.get(old.seq);
      const row = edit ? edit(old) : old;
      const hash = eventHash(prev, row);
      if (edit) redacted.push({ seq: row.seq, action: row.action, field: field.name, oldHash: old.hash, newHash: hash });
      if (!request.dryRun) update.run(row.reason, row.details, prev, hash, row.id);
      prev = hash;
      after = row.seq;
      rechained++;
    }
  }
  const newHead = { seq: head.seq, hash: prev };
  const outcome: RedactionOutcome = {
    dryRun: request.dryRun === true,
    redacted,
    anchor,
    oldHead: head,
    newHead,
    rechained,
    event: null,
    compacted: false,
  };
  if (request.dryRun) return outcome;
  const fields = eventFields(eventSeq, request.actor, {
    action: "audit.redacted",
    outcome: "succeeded",
    reason,
    details: { field: field.name, redacted, anchor, oldHead: head, newHead, rechained },
  });
  const hash = eventHash(newHead.hash, fields);
  const columns = [...Object.keys(fields), "prevHash", "hash"];
  db.prepare(`INSERT INTO "AuditEvent" (${columns.map((c) => `"${c}"`).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`).run(
    ...Object.values(fields),
    newHead.hash,
    hash,
  );
  return { ...outcome, event: { seq: eventSeq, hash } };
}

type Field = { name: string; column: "reason" | "details"; key: string | null };

function parseField(name: string): Field {
  if (name === "reason" || name === "details") return { name, column: name, key: null };
  const key = /^details\.([A-Za-z0-9_$-]{1,100})$/.exec(name)?.[1];
  if (key) return { name, column: "details", key };
  throw new InvalidInputError(`--field must be reason, details or details.KEY (one key of the details), not "${name.slice(0, 100)}".`);
}

/** What the event becomes: the field replaced by the marker. Refuses a field the event lacks or that is already redacted. */
function editFor(row: Row, field: Field, mark: string): (row: Row) => Row {
  const where = `event #${row.seq} (${row.action})`;
  if (field.column === "reason") {
    if (row.reason === null || row.reason === "") throw new InvalidInputError(`${where} has no reason to redact.`);
    if (MARKER.test(row.reason)) throw new InvalidInputError(`The reason of ${where} is already redacted.`);
    return (r) => ({ ...r, reason: mark });
  }
  if (row.action === "audit.redacted") throw new InvalidInputError(`${where} records a redaction: its details are its evidence and stay.`);
  const details = parseObject(row.details);
  if (field.key === null) {
    if (details && Object.keys(details).length === 1 && typeof details.redacted === "string" && MARKER.test(details.redacted)) {
      throw new InvalidInputError(`The details of ${where} are already redacted.`);
    }
    return (r) => ({ ...r, details: JSON.stringify({ redacted: mark }) });
  }
  const key = field.key;
  if (!details || !Object.hasOwn(details, key)) throw new InvalidInputError(`The details of ${where} have no "${key}".`);
  if (typeof details[key] === "string" && MARKER.test(details[key] as string))
    throw new InvalidInputError(`${field.name} of ${where} is already redacted.`);
  return (r) => ({ ...r, details: JSON.stringify({ ...details, [key]: mark }) });
}

/** The whole chain checked a page at a time; the problem when broken, else null. */
function verifyAll(db: Database.Database): string | null {
  const page = db.prepare(`SELECT * FROM "AuditEvent" WHERE seq > ? ORDER BY seq LIMIT ${PAGE}`);
  let anchor = { seq: 0, hash: GENESIS };
  for (;;) {
    const rows = page.all(anchor.seq) as Row[];
    if (rows.length === 0) return null;
    const report = verifyChain(rows, anchor);
    if (!report.ok) return report.problem?.message ?? "broken";
    const last = rows.at(-1) as Row;
    anchor = { seq: last.seq, hash: last.hash };
  }
}

function compact(db: Database.Database): boolean {
  // VACUUM rebuilds every page (free pages and overflow pages included); the checkpoint then writes the
  // rebuilt pages into the file and truncates the write-ahead log, which held the old page images.
  db.exec("VACUUM");
  const [result] = db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number }[];
  return result?.busy === 0;
}

function openFile(file: string): Database.Database {
  if (!existsSync(file)) throw new InvalidInputError(`There is no audit database at ${file}.`);
  migrateDatabase(file);
  return new Database(file, { timeout: 10_000 });
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
