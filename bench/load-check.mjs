// The loads_and_predicts check's cost on the demo models: a `registry promote --dry-run` of each version with
// the check (answers not yet remembered), beside the same dry-run with the check off, alternating, and the
// check's own sandbox time from its evidence. Not part of `npm test`. `node bench/load-check.mjs`
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const repo = join(import.meta.dirname, "..");
const BIN = join(repo, "cli", "bin.mjs");
const PYTHON = process.env.REGISTRY_LOAD_PYTHON ?? "/usr/bin/python3";
const root = mkdtempSync(join(tmpdir(), "bench-load-check-"));
cpSync(join(repo, "artifacts"), root, { recursive: true });
const stems = readdirSync(join(root, "models"))
  .filter((f) => f.endsWith(".joblib") && !f.startsWith("production_latest"))
  .map((f) => f.slice(0, -".joblib".length));

function dryRun(stem, check) {
  rmSync(join(root, ".registry"), { recursive: true, force: true });
  const env = { ...process.env, REGISTRY_LOAD_PYTHON: PYTHON, REGISTRY_LOAD_CHECK: check ? "" : "off" };
  const started = process.hrtime.bigint();
  // A refused plan (a baseline below the threshold) exits 3 and still prints the plan.
  const out = spawnSync("node", [BIN, "promote", "--version", stem, "--dry-run", "--json", "--root", root], { env, encoding: "utf8" }).stdout;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const plan = JSON.parse(out);
  return { ms, check: plan.checks.find((c) => c.name === "loads_and_predicts") };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const stem of stems) {
  const on = [];
  const off = [];
  let detail = "";
  for (let i = 0; i < 3; i++) {
    off.push(dryRun(stem, false).ms);
    const r = dryRun(stem, true);
    on.push(r.ms);
    detail = r.check?.detail ?? "";
  }
  rows.push(`| ${stem} | ${median(off).toFixed(0)} ms | ${median(on).toFixed(0)} ms | +${(median(on) - median(off)).toFixed(0)} ms | ${detail.slice(0, 70)} |`);
}
rmSync(root, { recursive: true, force: true });
console.log(`Python: ${PYTHON}; median of 3, alternating; answers not remembered (a fresh .registry each run).\n`);
console.log("| version | dry-run, check off | dry-run, check on | the check | its detail |\n| --- | --- | --- | --- | --- |");
console.log(rows.join("\n"));
