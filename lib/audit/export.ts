import type { AuditEvent } from "@/lib/generated/prisma/client";
import { type ChainedEvent, type ChainReport, HASHED_FIELDS, verifyChain } from "./chain";

export const EXPORT_FIELDS = [...HASHED_FIELDS, "prevHash", "hash"] as const;
const NUMERIC = new Set(["seq", "fromScore", "toScore"]);

/** The chain as a self-contained JSON document that `registry audit verify --file` checks offline. Pure. */
export function toJsonExport(events: AuditEvent[], exportedAt = new Date().toISOString()): string {
  const rows = events.map((e) => Object.fromEntries(EXPORT_FIELDS.map((k) => [k, e[k]])));
  return JSON.stringify(
    { format: "model-registry-audit", version: 1, exportedAt, count: rows.length, headHash: events.at(-1)?.hash ?? null, events: rows },
    null,
    2,
  );
}

/** The chain as CSV (RFC 4180, one row per event, every hashed field), also verifiable offline. Pure. */
export function toCsvExport(events: AuditEvent[]): string {
  const lines = [EXPORT_FIELDS.join(",")];
  for (const e of events) lines.push(EXPORT_FIELDS.map((k) => csvCell(e[k])).join(","));
  return `${lines.join("\r\n")}\r\n`;
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
    const events = body.map(
      (r) =>
        Object.fromEntries(
          EXPORT_FIELDS.map((k, i) => {
            const v = r[i] ?? null;
            return [k, NUMERIC.has(k) && v !== null ? Number(v) : v];
          }),
        ) as unknown as ChainedEvent,
    );
    return { ...verifyChain(events), format: "csv" };
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

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = String(v);
  // Cells are kept byte-exact (no spreadsheet-formula escaping) because the hash covers them; an empty
  // string is quoted so it stays distinct from null, which is an empty unquoted cell.
  return s === "" || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
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
