import { spawn, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
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
