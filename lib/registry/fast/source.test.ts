import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainSource } from "../plain-source";
import { loadVersion, type ScanOptions, scanForPlan, scanRegistry, type Snapshot } from "../scan";
import { FIXTURE, tempRegistry } from "../test-support/fixture";
import type { FactSource } from "../types";
import { loadScanCache, saveScanCache } from "./scan-cache";
import { fastSource, scanMemos } from "./source";

// The contract of the fast source: whatever it remembers, across scans, threads and CLI runs, a scan with
// it gives exactly the snapshot the plain source gives by reading every file.

/** A small seeded generator (mulberry32): the same registries on every run. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = ["logreg", "rf", "xgb_v2", "a"];
const SCORES = [0.5, 0.7, 0.7, 0.9, 0.123456789];

/** One metrics file of some kind: flat, nested, broken, not an object, unscored, or NaN-like. */
function metricsText(r: () => number): string {
  const score = SCORES[Math.floor(r() * SCORES.length)];
  const pick = Math.floor(r() * 8);
  if (pick === 0) return JSON.stringify({ metrics: { roc_auc: score, f1: score }, trained_by: "ci" });
  if (pick === 1) return "{ not json";
  if (pick === 2) return "[1, 2]";
  if (pick === 3) return JSON.stringify({ pr_auc: "NaN", note: "no score" });
  if (pick === 4) return JSON.stringify({ pr_auc: null, accuracy: score });
  return JSON.stringify({ pr_auc: score, roc_auc: r(), hyperparameters: { C: r() } });
}

/** A random registry: random stems, every kind of metrics file, ties, duplicate bytes, orphans, aliases. */
function randomRegistry(seed: number): string {
  const r = random(seed);
  const root = mkdtempSync(join(tmpdir(), `registry-contract-${seed}-`));
  mkdirSync(join(root, "models"));
  mkdirSync(join(root, "metrics"));
  const stems: string[] = [];
  const n = 3 + Math.floor(r() * 40);
  for (let i = 0; i < n; i++) {
    const day = 1 + Math.floor(r() * 9);
    const stem = `${TYPES[Math.floor(r() * TYPES.length)]}_2025010${day}T10000${Math.floor(r() * 3)}Z`;
    if (stems.includes(stem)) continue;
    stems.push(stem);
    // Identical bytes under several names now and then.
    writeFileSync(join(root, "models", `${stem}.joblib`), r() < 0.2 ? "same bytes" : `model ${stem}`);
    if (r() < 0.85) writeFileSync(join(root, "metrics", `${stem}.json`), metricsText(r));
  }
  if (r() < 0.5) writeFileSync(join(root, "metrics", "orphan_20240101T000000Z.json"), JSON.stringify({ pr_auc: 0.99 }));
  if (r() < 0.3) writeFileSync(join(root, "models", "notes.txt"), "not a model");
  const aliased = stems[Math.floor(r() * stems.length)] as string;
  const alias = Math.floor(r() * 5);
  // 0: absent; 1: a promoted pair; 2: a hand-copied model alone; 3: mismatched metrics; 4: bytes of no version.
  if (alias === 1 || alias === 2 || alias === 3)
    cpSync(join(root, "models", `${aliased}.joblib`), join(root, "models", "production_latest.joblib"));
  if (alias === 1) cpSync(join(root, "metrics", `${aliased}.json`), join(root, "metrics", "production_latest.json"), { force: true });
  if (alias === 3) writeFileSync(join(root, "metrics", "production_latest.json"), metricsText(r));
  if (alias === 4) writeFileSync(join(root, "models", "production_latest.joblib"), "bytes of no version");
  return root;
}

/** A snapshot without the time it was taken. */
function comparable(s: Snapshot) {
  const { scannedAt: _, ...rest } = s;
  return rest;
}

const OPTIONS: ScanOptions[] = [{}, { metrics: "scores" }, { metrics: "scores", models: true }, { models: true }];

/** Every scan and plan view of `root` through `source`, as plain data. */
async function everything(root: string, source: FactSource) {
  const scans = [];
  for (const o of OPTIONS) scans.push(comparable(await scanRegistry(root, { ...o, source })));
  const plan = await scanForPlan(root, source);
  const all = scans[0]?.versions ?? [];
  const versions = all.map((v) => plan.version(v.stem));
  const loaded = all.map((v) => loadVersion(root, v, source));
  return { scans, plan: { best: plan.best, production: plan.production, versions }, loaded };
}

describe("the fast fact source gives the plain source's snapshot", () => {
  const roots: string[] = [];
  beforeAll(async () => {
    roots.push(tempRegistry());
    const demo = mkdtempSync(join(tmpdir(), "registry-contract-demo-"));
    cpSync(resolve(FIXTURE, "../../artifacts"), demo, { recursive: true });
    roots.push(demo);
    for (let seed = 1; seed <= 12; seed++) roots.push(randomRegistry(seed));
    // Files a memo may keep must have been still for a second (see settledAt).
    await new Promise((r) => setTimeout(r, 1100));
  });
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it("on every fixture and random registry: in memory (a server), cold and warm", async () => {
    for (const root of roots) {
      const plain = await everything(root, plainSource);
      expect(plain.scans[0]?.versions.length, root).toBeGreaterThan(0);
      expect(await everything(root, fastSource), `${root} cold`).toEqual(plain);
      expect(await everything(root, fastSource), `${root} warm`).toEqual(plain);
    }
  });

  it("on every fixture and random registry: as CLI runs, from no memo and from a saved one", async () => {
    for (const root of roots) {
      const plain = await everything(root, plainSource);
      for (const run of ["first", "second", "third"]) {
        if (run === "first") rmSync(join(root, ".registry"), { recursive: true, force: true });
        const loaded = loadScanCache(root);
        expect(await everything(root, fastSource), `${root} ${run} run`).toEqual(plain);
        saveScanCache(root, loaded);
      }
      expect(scanMemos.latest(root), root).not.toBeNull();
      // Back to in-memory scans for the other tests of this process.
      scanMemos.begin(root, null);
    }
  });
});
