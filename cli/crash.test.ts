import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scanRegistry } from "@/lib/registry";
import { BEST, PRODUCTION, removeRegistry, sha, tempRegistry } from "@/lib/registry/test-support/fixture";

const BIN = resolve(__dirname, "bin.mjs");
const STEPS = [
  "after_stage_model",
  "after_stage_metrics",
  "after_journal",
  "after_intent",
  "after_rename_model",
  "after_rename_metrics",
  "before_complete",
];
// The long run (CRASH_RANDOM_RUNS=200 npm run test:crash) kills at random moments many more times.
const RANDOM_RUNS = Number(process.env.CRASH_RANDOM_RUNS ?? 6);

let root: string;
beforeEach(() => {
  root = tempRegistry();
});
afterEach(() => removeRegistry(root));

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync("node", [BIN, ...args, "--root", root], { env: { ...process.env, DATABASE_URL: "", ...env }, encoding: "utf8" });

/** The invariants after any crash and the next start: a whole pair of one version, no temp files, an honest log. */
async function expectConsistent(allowed: string[]) {
  const s = await scanRegistry(root);
  expect(s.production.state).toBe("ok");
  expect(allowed).toContain(s.production.stem);
  expect(sha(join(root, "models/production_latest.joblib"))).toBe(sha(join(root, `models/${s.production.stem}.joblib`)));
  expect(sha(join(root, "metrics/production_latest.json"))).toBe(sha(join(root, `metrics/${s.production.stem}.json`)));
  const temps = ["models", "metrics"].flatMap((d) => readdirSync(join(root, d)).filter((f) => f.startsWith(".production_latest.")));
  expect(temps).toEqual([]);
  expect(readdirSync(join(root, ".registry"))).not.toContain("journal.json");
  const verify = cli(["audit", "verify", "--json"]);
  expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });
  return s.production.stem;
}

function events(): { action: string; outcome: string }[] {
  const db = new Database(join(root, ".registry/audit.db"), { readonly: true });
  try {
    return db.prepare("SELECT action, outcome FROM AuditEvent ORDER BY seq").all() as { action: string; outcome: string }[];
  } finally {
    db.close();
  }
}

describe("crash at every step of a promotion (SIGKILL), then the next start repairs", () => {
  for (const step of STEPS) {
    it(`killed ${step}`, async () => {
      const crashed = cli(["promote"], { REGISTRY_FAULT: step });
      expect(crashed.signal).toBe("SIGKILL");
      // The next start: any CLI write command repairs first (here a no-op dry run).
      expect(cli(["promote", "--dry-run"]).status).toBe(0);
      const live = await expectConsistent([PRODUCTION, BEST]);
      const log = events();
      const committed = ["after_journal", "after_intent", "after_rename_model", "after_rename_metrics", "before_complete"].includes(step);
      // Once the journal exists the change is rolled forward; before it, production is untouched.
      expect(live).toBe(committed ? BEST : PRODUCTION);
      if (committed) expect(log.some((e) => e.outcome === "recovered")).toBe(true);
      if (step === "after_intent" || step === "before_complete")
        expect(log[0]).toMatchObject({ action: "model.promotion_started", outcome: "intent" });
      // Every intent is closed by a completion, a recovery or a failure.
      expect(log.filter((e) => e.outcome === "intent").length).toBeLessThanOrEqual(log.filter((e) => e.outcome !== "intent").length);
    });
  }

  it(`survives ${RANDOM_RUNS} kills at random moments of promotions and rollbacks`, async () => {
    for (let i = 0; i < RANDOM_RUNS; i++) {
      const args = i % 2 === 0 ? ["promote"] : ["rollback", "--to", PRODUCTION];
      const child = spawn("node", [BIN, ...args, "--root", root], { env: { ...process.env, DATABASE_URL: "" }, stdio: "ignore" });
      // Listened for from the start: a run may finish before the kill (a no-op one takes ~100 ms).
      const exited = new Promise((r) => child.on("exit", r));
      await new Promise((r) => setTimeout(r, 60 + Math.random() * 200));
      child.kill("SIGKILL");
      await exited;
      expect(cli(["promote", "--dry-run"]).status).toBe(0);
      await expectConsistent([PRODUCTION, BEST]);
    }
  }, 120_000);
});

describe("a production alias that is a folder", () => {
  const alias = () => join(root, "models/production_latest.joblib");
  const toFolder = () => {
    rmSync(alias());
    mkdirSync(alias());
    writeFileSync(join(alias(), "notes.txt"), "someone's files");
  };
  const journal = () => existsSync(join(root, ".registry/journal.json"));
  const temps = () => ["models", "metrics"].flatMap((d) => readdirSync(join(root, d)).filter((f) => f.startsWith(".production_latest.")));

  it("refuses a promotion with exit 3 before writing anything, says why, and audits the refusal", () => {
    toFolder();
    const listed = cli(["list", "--json"]);
    expect(listed.status).toBe(0);
    const list = JSON.parse(listed.stdout);
    expect(list.production).toMatchObject({ state: "blocked" });
    expect(list.problems).toContainEqual(expect.objectContaining({ file: "models/production_latest.joblib", reason: "not_regular_file" }));
    const promoted = cli(["promote", "--json"]);
    expect(journal()).toBe(false);
    expect(temps()).toEqual([]);
    expect(promoted.stderr).toBe("");
    expect(promoted.status).toBe(3);
    const out = JSON.parse(promoted.stdout);
    expect(out).toMatchObject({ promoted: false, refused: true });
    expect(out.checks).toContainEqual(expect.objectContaining({ name: "alias_replaceable", passed: false }));
    expect(events()).toEqual([{ action: "model.promotion_refused", outcome: "refused" }]);
  });

  it("a journal left pointing at a folder is resolved once on the next start; then promotions work again", async () => {
    // A promotion killed after its intent was logged (journal staged), then someone puts a folder at the alias.
    expect(cli(["promote"], { REGISTRY_FAULT: "after_intent" }).signal).toBe("SIGKILL");
    expect(journal()).toBe(true);
    toFolder();
    const next = cli(["promote", "--json"]);
    expect(journal()).toBe(false);
    expect(temps()).toEqual([]);
    expect(next.stderr).toBe("");
    expect(next.status).toBe(3);
    expect(JSON.parse(next.stdout).checks).toContainEqual(expect.objectContaining({ name: "alias_replaceable", passed: false }));
    // The interrupted change is closed once, as failed; the new attempt is a refusal.
    expect(events()).toEqual([
      { action: "model.promotion_started", outcome: "intent" },
      { action: "model.promotion_failed", outcome: "failed" },
      { action: "model.promotion_refused", outcome: "refused" },
    ]);
    expect(cli(["promote", "--json"]).status).toBe(3);
    expect(events().filter((e) => e.outcome === "failed")).toHaveLength(1);
    rmSync(alias(), { recursive: true });
    expect(cli(["promote", "--json"]).status).toBe(0);
    expect(await expectConsistent([BEST])).toBe(BEST);
  });
});
