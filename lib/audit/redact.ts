import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import { LOCK_KEYS, lockForTransaction, providerOf } from "@/lib/db";
import { InvalidInputError, RefusedError } from "@/lib/registry";
import { type ChainedEvent, eventHash, GENESIS, type HashedEvent, verifyChain } from "./chain";
import type { AuditDb } from "./db";
import { type Actor, eventFields } from "./log";
import { migrateDatabase } from "./migrate";

/**
 * Taking a secret out of the chained audit log after the fact (issue 16: a password reached it through a
 * refused form). The chain makes every event permanent, so redaction is itself an audited change: the
 * named field of the named events is replaced by a marker, every later event is re-chained, and an
 * `audit.redacted` event records who, when, why, which events, the last unchanged event (the anchor),
 * and the head hash before and after. An export made before no longer matches from the first redacted
 * event on, and that event says why; up to the anchor it still matches. The database is then compacted
 * so the old text does not survive in its free space: SQLite's file and write-ahead log are rebuilt, and
 * PostgreSQL's table is rewritten (VACUUM FULL; its WAL archive, replicas and backups keep what they had).
 * The same steps run on either database (ChainTx), in one write transaction that appenders wait for.
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
  /** Whether the database was compacted (SQLite: file rebuilt, write-ahead log emptied; PostgreSQL: table rewritten). */
  compacted: boolean;
}

type Row = ChainedEvent & { id: number };

/** The reads and writes a redaction makes, inside one write transaction of either database. */
interface ChainTx {
  head(): Promise<{ seq: number; hash: string } | null>;
  event(seq: number): Promise<Row | null>;
  /** Up to PAGE events after `seq`, in order. */
  page(after: number): Promise<Row[]>;
  /** Writes each row's reason, details and links. */
  rewrite(rows: Row[]): Promise<void>;
  append(fields: HashedEvent, prevHash: string, hash: string): Promise<void>;
}

const PAGE = 2000;
const MARKER = /^\[redacted: see #\d+ audit\.redacted\]$/;
const marker = (eventSeq: number) => `[redacted: see #${eventSeq} audit.redacted]`;

/** The events the pre-issue-16 wrapper left a preview of refused input in (`details.input`), on either database. Reads only. */
export async function eventsWithRejectedInput(db: AuditDb): Promise<number[]> {
  const rows = await db.auditEvent.findMany({
    where: { action: "request.rejected" },
    select: { seq: true, details: true },
    orderBy: { seq: "asc" },
  });
  return rows
    .filter((r) => {
      const input = parseObject(r.details)?.input;
      return input !== undefined && !(typeof input === "string" && MARKER.test(input));
    })
    .map((r) => r.seq);
}

/**
 * Redacts one field of the given events in a SQLite file, re-chains every later event and appends the
 * audit.redacted event, all in one write transaction (writers of the chain wait for it, then append after
 * it); then compacts the file. Refuses, changing nothing, without a reason, for an unknown event or field,
 * and when the chain is already broken (re-chaining would hide the damage). A dry run computes the same
 * outcome and writes nothing.
 */
export async function redactEvents(file: string, request: RedactionRequest): Promise<RedactionOutcome> {
  const checked = checkRequest(request);
  const db = openFile(file);
  try {
    // Freed space in a page is zeroed rather than left holding the old text.
    db.pragma("secure_delete = ON");
    // Taken before the first read, so no writer appends between the check and the re-chain.
    db.exec("BEGIN IMMEDIATE");
    let outcome: RedactionOutcome;
    try {
      outcome = await redactInTransaction(sqliteTx(db), checked, request);
      db.exec(request.dryRun ? "ROLLBACK" : "COMMIT");
    } catch (e) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw e;
    }
    if (request.dryRun) return outcome;
    return { ...outcome, compacted: compact(db) };
  } finally {
    db.close();
  }
}

/**
 * The same redaction on a PostgreSQL database (`db` from openAudit): one transaction holding the chain's
 * append lock (every replica and CLI appends under it, so none links to a head that is being rewritten),
 * then the table is rewritten so the old text leaves its pages.
 */
export async function redactPostgresEvents(db: AuditDb, request: RedactionRequest): Promise<RedactionOutcome> {
  if (providerOf(db) !== "postgresql")
    throw new Error("redactPostgresEvents needs a PostgreSQL database: use redactEvents(file) on SQLite.");
  const checked = checkRequest(request);
  const outcome = await db.$transaction(
    async (tx) => {
      await lockForTransaction(tx, LOCK_KEYS.auditAppend);
      return redactInTransaction(postgresTx(tx), checked, request);
    },
    // Re-chaining a long log is many statements; appenders wait for it on the lock rather than failing.
    { maxWait: 15_000, timeout: 600_000 },
  );
  if (request.dryRun) return outcome;
  return { ...outcome, compacted: await compactPostgres(db) };
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

/**
 * Rewrites PostgreSQL's audit table (VACUUM FULL), so the text of redacted rows leaves its pages; readers and
 * writers of the table wait for it. False when the server refused (another session held the table too long).
 */
export async function compactPostgres(db: AuditDb): Promise<boolean> {
  try {
    await db.$executeRawUnsafe(`VACUUM FULL "AuditEvent"`);
    return true;
  } catch {
    return false;
  }
}

type Checked = { seqs: number[]; field: Field; reason: string };

function checkRequest(request: RedactionRequest): Checked {
  const reason = request.reason.trim();
  if (reason.length < 3) throw new InvalidInputError("Redaction needs --reason TEXT saying why: it goes into the audit log.");
  const field = parseField(request.field);
  const seqs = [...new Set(request.seqs)].sort((a, b) => a - b);
  if (seqs.length === 0) throw new InvalidInputError("Name the events to redact with --seq N (see `registry audit list`).");
  for (const s of seqs) if (!Number.isInteger(s) || s < 1) throw new InvalidInputError(`--seq ${s} is not an event number.`);
  return { seqs, field, reason };
}

async function redactInTransaction(tx: ChainTx, { seqs, field, reason }: Checked, request: RedactionRequest): Promise<RedactionOutcome> {
  const head = await tx.head();
  if (!head) throw new InvalidInputError("The audit log is empty: there is nothing to redact.");
  const broken = await verifyAll(tx);
  if (broken) {
    throw new RefusedError(
      `The audit chain is already broken (${broken}). Redacting would re-chain over the damage and hide it: nothing was changed. Investigate with \`registry audit verify\` first.`,
    );
  }
  const eventSeq = head.seq + 1;
  const edits = new Map<number, (row: Row) => Row>();
  for (const seq of seqs) {
    const row = await tx.event(seq);
    if (!row) throw new InvalidInputError(`There is no event #${seq}: the log holds #1 to #${head.seq}.`);
    edits.set(seq, editFor(row, field, marker(eventSeq)));
  }
  const first = seqs[0] as number;
  const before = first === 1 ? null : await tx.event(first - 1);
  const anchor = before ? { seq: before.seq, hash: before.hash } : { seq: 0, hash: GENESIS };
  const redacted: RedactionOutcome["redacted"] = [];
  let prev = anchor.hash;
  let after = anchor.seq;
  let rechained = 0;
  for (;;) {
    const rows = await tx.page(after);
    if (rows.length === 0) break;
    const rewritten: Row[] = [];
    for (const old of rows) {
      const edit = edits.get(old.seq);
      const row = edit ? edit(old) : old;
      const hash = eventHash(prev, row);
      if (edit) redacted.push({ seq: row.seq, action: row.action, field: field.name, oldHash: old.hash, newHash: hash });
      rewritten.push({ ...row, prevHash: prev, hash });
      prev = hash;
      after = row.seq;
      rechained++;
    }
    if (!request.dryRun) await tx.rewrite(rewritten);
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
  await tx.append(fields, newHead.hash, hash);
  return { ...outcome, event: { seq: eventSeq, hash } };
}

function sqliteTx(db: Database.Database): ChainTx {
  const head = db.prepare(`SELECT seq, hash FROM "AuditEvent" ORDER BY seq DESC LIMIT 1`);
  const event = db.prepare(`SELECT * FROM "AuditEvent" WHERE seq = ?`);
  const page = db.prepare(`SELECT * FROM "AuditEvent" WHERE seq > ? ORDER BY seq LIMIT ${PAGE}`);
  const update = db.prepare(`UPDATE "AuditEvent" SET reason = ?, details = ?, prevHash = ?, hash = ? WHERE id = ?`);
  return {
    head: async () => (head.get() as { seq: number; hash: string } | undefined) ?? null,
    event: async (seq) => (event.get(seq) as Row | undefined) ?? null,
    page: async (after) => page.all(after) as Row[],
    rewrite: async (rows) => {
      for (const r of rows) update.run(r.reason, r.details, r.prevHash, r.hash, r.id);
    },
    append: async (fields, prevHash, hash) => {
      const columns = [...Object.keys(fields), "prevHash", "hash"];
      db.prepare(`INSERT INTO "AuditEvent" (${columns.map((c) => `"${c}"`).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`).run(
        ...Object.values(fields),
        prevHash,
        hash,
      );
    },
  };
}

type Tx = Parameters<Parameters<AuditDb["$transaction"]>[0]>[0];

function postgresTx(tx: Tx): ChainTx {
  return {
    head: () => tx.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { seq: true, hash: true } }),
    event: (seq) => tx.auditEvent.findUnique({ where: { seq } }),
    page: (after) => tx.auditEvent.findMany({ where: { seq: { gt: after } }, orderBy: { seq: "asc" }, take: PAGE }),
    rewrite: async (rows) => {
      // One statement a page: the new values travel as parallel arrays, joined to their rows by id.
      await tx.$executeRaw`
        UPDATE "AuditEvent" AS e SET "reason" = v."reason", "details" = v."details", "prevHash" = v."prevHash", "hash" = v."hash"
        FROM unnest(${rows.map((r) => r.id)}::int[], ${rows.map((r) => r.reason)}::text[], ${rows.map((r) => r.details)}::text[],
          ${rows.map((r) => r.prevHash)}::text[], ${rows.map((r) => r.hash)}::text[]) AS v("id", "reason", "details", "prevHash", "hash")
        WHERE e."id" = v."id"`;
    },
    append: async (fields, prevHash, hash) => {
      await tx.auditEvent.create({ data: { ...fields, prevHash, hash } });
    },
  };
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
async function verifyAll(tx: ChainTx): Promise<string | null> {
  let anchor = { seq: 0, hash: GENESIS };
  for (;;) {
    const rows = await tx.page(anchor.seq);
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
