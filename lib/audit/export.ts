import type { AuditEvent } from "@/lib/generated/prisma/client";
import { type ChainedEvent, type ChainReport, HASHED_FIELDS, verifyChain } from "./chain";
import type { AuditDb } from "./db";

export const EXPORT_FIELDS = [...HASHED_FIELDS, "prevHash", "hash"] as const;
const NUMERIC = new Set(["seq", "fromScore", "toScore"]);

/** The chain as a self-contained JSON document that `registry audit verify --file` checks offline. Pure. */
export function toJsonExport(events: AuditEvent[], exportedAt = new Date().toISOString()): string {
  const rows = events.map(exportRow);
  return JSON.stringify(
    { format: "model-registry-audit", version: 1, exportedAt, count: rows.length, headHash: events.at(-1)?.hash ?? null, events: rows },
    null,
    2,
  );
}

/**
 * The chain as CSV (RFC 4180, one row per event, every hashed field), also verifiable offline. Text cells
 * a spreadsheet would run as a formula are neutralised (see csvCell). Pure.
 */
export function toCsvExport(events: AuditEvent[]): string {
  const lines = [EXPORT_FIELDS.join(",")];
  for (const e of events) lines.push(EXPORT_FIELDS.map((k) => csvCell(e[k])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

/** Events read per query while exporting: memory stays flat at any log size. */
const PAGE = 2000;

/** The head of the chain at the start of an export, which the export then covers exactly. */
export interface ExportHead {
  count: number;
  headHash: string | null;
  upTo: number;
}

/** The newest event's sequence and hash, and how many events lead up to it. Reads only. */
export async function exportHead(db: AuditDb): Promise<ExportHead> {
  const head = await db.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { seq: true, hash: true } });
  const upTo = head?.seq ?? 0;
  return { count: await db.auditEvent.count({ where: { seq: { lte: upTo } } }), headHash: head?.hash ?? null, upTo };
}

/**
 * The chain up to `head` as export text, a page of events at a time (the same text toJsonExport and
 * toCsvExport give), so a million-event log streams without being held in memory. Events appended
 * meanwhile are left for the next export. Reads only.
 */
export async function* exportText(db: AuditDb, format: "json" | "csv", head: ExportHead, exportedAt = new Date().toISOString()) {
  if (format === "csv") yield `${EXPORT_FIELDS.join(",")}\r\n`;
  else {
    const header = JSON.stringify(
      { format: "model-registry-audit", version: 1, exportedAt, count: head.count, headHash: head.headHash, events: [] },
      null,
      2,
    );
    // The header up to the events array's opening bracket; rows and the closing lines follow.
    yield header.slice(0, header.lastIndexOf("[") + 1);
  }
  let after = 0;
  let rows = 0;
  for (;;) {
    const page = await db.auditEvent.findMany({ where: { seq: { gt: after, lte: head.upTo } }, orderBy: { seq: "asc" }, take: PAGE });
    if (page.length === 0) break;
    after = (page.at(-1) as AuditEvent).seq;
    const parts: string[] = [];
    for (const e of page) {
      if (format === "csv") parts.push(`${EXPORT_FIELDS.map((k) => csvCell(e[k])).join(",")}\r\n`);
      else parts.push(`${rows === 0 ? "\n" : ",\n"}${indent(JSON.stringify(exportRow(e), null, 2), "    ")}`);
      rows++;
    }
    yield parts.join("");
  }
  if (format === "json") yield rows === 0 ? "]\n}" : "\n  ]\n}";
}

function exportRow(e: AuditEvent): Record<string, unknown> {
  return Object.fromEntries(EXPORT_FIELDS.map((k) => [k, e[k]]));
}

function indent(text: string, pad: string): string {
  return text.replace(/^/gm, pad);
}

/** Parses a JSON or CSV export back into chain events and verifies them. Pure; never throws on bad input. */
export function verifyExport(text: string): ChainReport & { format: "json" | "csv" | "unknown"; error?: string } {
  const trimmed = text.trimStart();
  try {
    if (trimmed.startsWith("{")) {
      const doc = JSON.parse(trimmed) as { events?: unknown };
      if (!Array.isArray(doc.events)) throw new Error("no events array");
      const report = verifyChain(doc.events as ChainedEvent[]);
      return { ...report, format: "json" };
    }
    const rows = parseCsv(text);
    const [header, ...body] = rows;
    if (!header || EXPORT_FIELDS.some((f, i) => header[i] !== f)) throw new Error("unexpected CSV header");
    const events = (escaped: boolean) =>
      body.map(
        (r) =>
          Object.fromEntries(
            EXPORT_FIELDS.map((k, i) => {
              const v = r[i] ?? null;
              if (v === null) return [k, null];
              return [k, NUMERIC.has(k) ? Number(v) : escaped ? uncsvText(v) : v];
            }),
          ) as unknown as ChainedEvent,
      );
    const report = verifyChain(events(true));
    // An export written before cells were neutralised kept a leading quote as part of the value.
    if (!report.ok && body.some((r) => r.some((c) => c?.startsWith("'")))) {
      const legacy = verifyChain(events(false));
      if (legacy.ok) return { ...legacy, format: "csv" };
    }
    return { ...report, format: "csv" };
  } catch (e) {
    return {
      ok: false,
      count: 0,
      problem: { seq: null, index: 0, message: `Not a readable audit export: ${(e as Error).message}.` },
      headHash: "",
      format: "unknown",
      error: (e as Error).message,
    };
  }
}

// A spreadsheet runs a cell starting with one of =, +, -, @, tab or CR as a formula (CSV injection). Such a
// cell gets a leading single quote, OWASP's neutraliser, and is quoted. A value already starting with a
// single quote gets one too, so the verifier strips exactly one leading quote from every text cell and
// the escape is reversible without ambiguity.
const NEUTRALISE = /^[=+\-@\t\r']/;

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  // Numbers (sequence, scores) are ours, not formulas: a negative score stays a number in the sheet.
  if (typeof v === "number") return String(v);
  const raw = String(v);
  const neutralised = NEUTRALISE.test(raw);
  const s = neutralised ? `'${raw}` : raw;
  // An empty string is quoted so it stays distinct from null, which is an empty unquoted cell.
  return neutralised || s === "" || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The value a text cell stands for: the export's formula neutraliser taken off (see csvCell). */
function uncsvText(cell: string): string {
  return cell.startsWith("'") ? cell.slice(1) : cell;
}

/** RFC 4180 rows; an empty unquoted cell is null, a quoted one is "". */
function parseCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let cell = "";
  let quoted = false;
  let wasQuoted = false;
  const endCell = () => {
    row.push(cell === "" && !wasQuoted ? null : cell);
    cell = "";
    wasQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') {
      quoted = true;
      wasQuoted = true;
    } else if (c === ",") endCell();
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endCell();
      rows.push(row);
      row = [];
    } else cell += c;
  }
  if (cell !== "" || wasQuoted || row.length) {
    endCell();
    rows.push(row);
  }
  return rows;
}
