import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fingerprint, PRODUCTION, removeRegistry, sha, tempRegistry } from "@/lib/registry/test-support/fixture";
import { main } from "./main";

// A is production when the log begins; B and C pass every gate in turn; NEVER is never put live.
const A = PRODUCTION;
const B = "candidate_logreg_20250422T163000Z";
const C = "candidate_logreg_20250709T120000Z";
const NEVER = "baseline_logreg_20250114T091500Z";

let root: string;
beforeEach(() => {
  delete process.env.DATABASE_URL;
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../prisma/migrations");
  root = tempRegistry();
});
afterEach(() => removeRegistry(root));

/** Runs the CLI in-process and captures what it prints (stdout) and what it reports as an error (stderr). */
async function run(...args: string[]) {
  const lines: string[] = [];
  let json: unknown = null;
  const errors: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => {
    errors.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main([...args, "--root", root], {
      json: false,
      print: (t) => lines.push(t),
      printJson: (v) => {
        json = v;
      },
    });
    return { code, text: lines.join("\n"), json: json as Record<string, unknown>, stderr: errors.join("") };
  } finally {
    process.stderr.write = write;
  }
}

const live = () => sha(join(root, "models/production_latest.joblib"));
const shaOf = (stem: string) => sha(join(root, `models/${stem}.joblib`));

describe("registry rollback: only back to what was live", () => {
  it("refuses a version never live as a rollback (exit 3, never_live), writes nothing, and says to promote it", async () => {
    expect((await run("promote", "--version", B)).code).toBe(0);
    const before = fingerprint(root);
    const dry = await run("rollback", "--to", NEVER, "--dry-run", "--json");
    expect(dry.code).toBe(3);
    expect(dry.json).toMatchObject({
      rolledBack: false,
      refused: true,
      refusalCode: "never_live",
      rollback: { legitimate: false, finding: "never_live", timesLive: 0, periods: [] },
    });
    const checks = dry.json.checks as { name: string; passed: boolean; skipped: boolean }[];
    expect(checks[0]).toMatchObject({ name: "was_live", passed: false });
    // Not skipped: a version that was never live faces the score gates.
    expect(checks.find((c) => c.name === "min_score")).toMatchObject({ skipped: false, passed: false });

    const real = await run("rollback", "--to", NEVER, "--reason", "try it");
    expect(real.code).toBe(3);
    expect(real.text).toMatch(/was never production/);
    expect(real.text).toMatch(
      /promote it instead, with every readiness check: registry promote --version baseline_logreg_20250114T091500Z/,
    );
    expect(fingerprint(root)).toEqual(before);
    const events = await run("audit", "list", "--action", "model.rollback_refused", "--json");
    expect(events.json.total).toBe(1);

    // As a promotion it runs every gate: refused by the threshold, allowed with overrides and a reason.
    expect((await run("promote", "--version", NEVER, "--json")).json).toMatchObject({ refused: true, refusalCode: "checks_failed" });
    const promoted = await run(
      "promote",
      "--version",
      NEVER,
      "--override",
      "min_score",
      "--override",
      "no_degradation",
      "--reason",
      "hotfix",
    );
    expect(promoted.code).toBe(0);
    expect(live()).toBe(shaOf(NEVER));
  });

  it("does not complete a hand copy of a model never live: the bytes in the alias alone prove nothing", async () => {
    await run("promote", "--version", B);
    // Someone copies NEVER's model over the alias by hand (not its metrics): the pair is mismatched.
    writeFileSync(join(root, "models/production_latest.joblib"), readFileSync(join(root, `models/${NEVER}.joblib`)));
    const before = fingerprint(root);
    const r = await run("rollback", "--to", NEVER, "--json", "--reason", "finish the copy");
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({ refusalCode: "never_live", rollback: { finding: "never_live" } });
    expect(fingerprint(root)).toEqual(before);
    // Whereas B, back in the alias with a whole pair, is a no-op rollback (exit 0).
    writeFileSync(join(root, "models/production_latest.joblib"), readFileSync(join(root, `models/${B}.joblib`)));
    expect(await run("rollback", "--to", B, "--json")).toMatchObject({ code: 0, json: { noop: true } });
  });

  it("rolls back to the alias that was live when the log began, showing its history in the dry run", async () => {
    expect((await run("promote", "--version", B, "--actor", "alice", "--reason", "weekly")).code).toBe(0);
    const dry = await run("rollback", "--to", A, "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.text).toMatch(/live history of baseline_logreg_20250211T143000Z/);
    expect(dry.text).toMatch(/before the log began → \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC {2}baseline_logreg_20250211T143000Z/);
    expect(dry.text).toMatch(/skip {7}min_score/);
    const json = await run("rollback", "--to", B, "--dry-run", "--json");
    // B was live from its promotion until now... it is live now, so a rollback to it does nothing.
    expect(json.json).toMatchObject({ noop: true, rollback: { finding: "was_live" } });
    const back = await run("rollback", "--to", A, "--json", "--reason", "pager");
    expect(back).toMatchObject({ code: 0, json: { rolledBack: true, refusalCode: null, rollback: { legitimate: true, timesLive: 1 } } });
    const again = await run("rollback", "--to", B, "--dry-run", "--json");
    expect((again.json.rollback as { periods: unknown[] }).periods[0]).toMatchObject({
      stem: B,
      how: "promoted",
      by: "alice",
      reason: "weekly",
    });
  });

  it("rolls back to previous production step by step: C, then B, then A, then says there is none", async () => {
    await run("promote", "--version", B);
    await run("promote", "--version", C);
    const first = await run("rollback", "--previous", "--json", "--reason", "pager");
    expect(first.json).toMatchObject({ rolledBack: true, from: C, to: B, previous: { stem: B } });
    const second = await run("rollback", "--previous", "--json", "--reason", "still bad");
    // Not back to C: to the version live before B was promoted.
    expect(second.json).toMatchObject({ rolledBack: true, from: B, to: A, previous: { stem: A } });
    expect(live()).toBe(shaOf(A));
    const none = await run("rollback", "--previous");
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no previous production.*since before the audit log began/);
  });

  it("shows which version 'previous' is, and why, in the dry run", async () => {
    await run("promote", "--version", B, "--actor", "alice");
    const dry = await run("rollback", "--previous", "--dry-run");
    expect(dry.text).toMatch(
      /^Previous production: baseline_logreg_20250211T143000Z\. baseline_logreg_20250211T143000Z was live immediately before candidate_logreg_20250422T163000Z was promoted \(event #\d+, .* by alice\)\./,
    );
  });
});

describe("registry audit production --at", () => {
  it("answers before the log began, as recorded after each change, and now", async () => {
    const empty = await run("audit", "production", "--at", "2026-03-01T12:00:00Z", "--json");
    expect(empty).toMatchObject({ code: 0, json: { status: "no_record", production: null } });
    await run("promote", "--version", B, "--actor", "alice", "--reason", "weekly release");
    const db = new Database(join(root, ".registry/audit.db"), { readonly: true });
    const promoted = db.prepare("SELECT seq, at FROM AuditEvent WHERE action = 'model.promoted'").get() as { seq: number; at: string };
    db.close();

    const before = await run("audit", "production", "--at", "2000-01-01T00:00:00+02:00", "--json");
    expect(before.json).toMatchObject({
      at: "1999-12-31T22:00:00.000Z",
      status: "before_log",
      production: { stem: A, sha256: shaOf(A), how: "before_log", until: promoted.at },
    });
    const text = await run("audit", "production", "--at", "2000-01-01T00:00:00Z");
    expect(text.text).toMatch(
      /^Production at 2000-01-01 00:00:00 UTC: before the log began: baseline_logreg_20250211T143000Z \(by content hash\)/,
    );

    const after = await run("audit", "production", "--at", promoted.at, "--json");
    expect(after.json).toMatchObject({
      status: "recorded",
      production: {
        stem: B,
        sha256: shaOf(B),
        since: promoted.at,
        until: null,
        how: "promoted",
        by: "alice",
        event: promoted.seq,
        reason: "weekly release",
      },
    });
    const now = await run("audit", "production");
    expect(now.text).toMatch(
      /: candidate_logreg_20250422T163000Z\n {2}sha256 {3}[0-9a-f]{64}\n {2}since {4}.* UTC\n {2}until {4}now\n {2}by {7}alice \(promoted, event #\d+\)\n {2}why {6}weekly release/,
    );
  });

  it.each([["yesterday"], ["2026-03-01T12:00:00"], ["2026-02-30T12:00:00Z"], ["2026-03-01T25:00:00Z"], [""]])(
    "refuses --at %j with a clear message (exit 2)",
    async (at) => {
      const r = await run("audit", "production", "--at", at, "--json");
      expect(r.code).toBe(2);
      expect(r.json).toMatchObject({
        error: { code: "invalid_input", message: expect.stringMatching(/^--at .*ISO 8601 date-time with its zone/) },
      });
    },
  );

  it("notes a hand copy around the instant asked about", async () => {
    await run("promote", "--version", B);
    writeFileSync(join(root, "models/production_latest.joblib"), readFileSync(join(root, `models/${C}.joblib`)));
    writeFileSync(join(root, "metrics/production_latest.json"), readFileSync(join(root, `metrics/${C}.json`)));
    await run("rollback", "--to", A, "--reason", "undo the hand copy");
    const db = new Database(join(root, ".registry/audit.db"), { readonly: true });
    const [put, back] = db.prepare("SELECT at FROM AuditEvent WHERE outcome = 'succeeded' ORDER BY seq").all() as { at: string }[];
    db.close();
    if (!put || !back) throw new Error("two changes expected");
    // An instant between the two changes: B as recorded, and the hand copy of C that the rollback found.
    const between = new Date((Date.parse(put.at) + Date.parse(back.at)) / 2 + 0.5).toISOString();
    expect(Date.parse(between)).toBeGreaterThan(Date.parse(put.at));
    const r = await run("audit", "production", "--at", between, "--json");
    expect(r.json).toMatchObject({ status: "recorded", production: { stem: B }, uncertain: { stem: C, how: "outside_registry" } });
    const words = await run("audit", "production", "--at", between);
    expect(words.text).toMatch(
      /note {5}the alias was changed outside the registry before .*: by then it held candidate_logreg_20250709T120000Z/,
    );
    const text = await run("audit", "production", "--at", "2999-01-01T00:00:00Z");
    expect(text.text).toMatch(/: baseline_logreg_20250211T143000Z\n/);
  });
});
