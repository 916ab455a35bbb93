import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settledAt } from "../files";
import { type ListedVersion, scanForPlan, scanRegistry } from "../scan";
import { BEST, PRODUCTION, removeRegistry, sha, tempRegistry } from "../test-support/fixture";
import { ScanMemo } from "./memo";
import { loadScanCache, saveScanCache } from "./scan-cache";

const BIN = resolve(__dirname, "../../../cli/bin.mjs");
const CACHE = ".registry/scan-cache.bin";

/** One real CLI process, as CI runs it: its caches start from whatever the last process saved. */
async function cli(root: string, ...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)("node", [BIN, ...args, "--root", root, "--json"], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

const scores = (list: Record<string, unknown>) =>
  Object.fromEntries((list.versions as { stem: string; score: number }[]).map((v) => [v.stem, v.score]));

describe("the persistent scan cache between CLI runs", () => {
  let root: string;
  beforeAll(async () => {
    root = tempRegistry();
    // Only files that have been still for a second are memoised (see settledAt): let the copies settle.
    await new Promise((r) => setTimeout(r, 1100));
  });
  afterAll(() => removeRegistry(root));

  it("gives the same answers from the cache as from the files", async () => {
    const first = await cli(root, "list");
    expect(existsSync(join(root, CACHE))).toBe(true);
    const second = await cli(root, "list");
    expect(second).toEqual(first);
    const dry = await cli(root, "promote", "--dry-run");
    expect(dry).toMatchObject({ from: PRODUCTION, to: BEST, dryRun: true });
    expect(await cli(root, "promote", "--dry-run")).toEqual(dry);
  });

  it("sees a metrics file rewritten in place, even at the same size and mtime", async () => {
    const file = join(root, "metrics", `${BEST}.json`);
    // A whole-second mtime can be put back exactly after the edit; then only ctime (which nobody can set)
    // still tells the cache that the file changed.
    const mtime = Math.floor(Date.now() / 1000) - 60;
    utimesSync(file, mtime, mtime);
    await new Promise((r) => setTimeout(r, 1100));
    await cli(root, "list");
    const text = readFileSync(file, "utf8");
    const edited = text.replace(/"pr_auc": *0\.\d/, (m) => m.slice(0, -1) + (m.endsWith("9") ? "1" : "9"));
    expect(edited).not.toBe(text);
    expect(edited.length).toBe(text.length);
    writeFileSync(file, edited);
    utimesSync(file, mtime, mtime);
    expect(lstatSync(file).mtimeMs).toBe(mtime * 1000);
    const after = await cli(root, "list");
    expect(scores(after)[BEST]).toBe(JSON.parse(edited).metrics.pr_auc);
    expect(scores(after)[BEST]).not.toBe(JSON.parse(text).metrics.pr_auc);
  });

  it("sees a new version written by training, and a model file replaced under its name", async () => {
    await cli(root, "list");
    const stem = "candidate_logreg_20261126T120000Z";
    copyFileSync(join(root, "models", `${BEST}.joblib`), join(root, "models", `${stem}.joblib`));
    writeFileSync(join(root, "metrics", `${stem}.json`), JSON.stringify({ metrics: { pr_auc: 0.99 } }));
    const listed = await cli(root, "list");
    expect(scores(listed)[stem]).toBe(0.99);
    expect(listed.best).toBe(stem);
    const dry = await cli(root, "promote", "--dry-run");
    expect(dry).toMatchObject({ to: stem });
    // Another model's bytes renamed over this version's model file: a new inode, so a new hash.
    const model = join(root, "models", `${stem}.joblib`);
    copyFileSync(join(root, "models", `${PRODUCTION}.joblib`), `${model}.tmp`);
    renameSync(`${model}.tmp`, model);
    const relisted = (await cli(root, "list")).versions as { stem: string; sha256: string }[];
    expect(relisted.find((v) => v.stem === stem)?.sha256).toBe(sha(join(root, "models", `${PRODUCTION}.joblib`)));
  });

  it("ignores a torn or foreign cache file", async () => {
    const good = await cli(root, "list");
    writeFileSync(join(root, CACHE), readFileSync(join(root, CACHE)).subarray(0, 100));
    expect(await cli(root, "list")).toEqual(good);
    writeFileSync(join(root, CACHE), "not a cache");
    expect(await cli(root, "list")).toEqual(good);
  });
});

describe("ScanMemo", () => {
  const stat = (n: number): Stats => ({ dev: 1, ino: n, size: 100 + n, mtimeMs: 1e12 + n + 0.25, ctimeMs: 1e12 + n + 0.5 }) as Stats;
  const [s1, s2, m2] = ["s1", "s2", "m2"].map((text) => createHash("sha256").update(text).digest("hex")) as [string, string, string];

  it("round-trips through its encoding and holds a fact only for the exact same stamp", () => {
    const memo = ScanMemo.from(null, "dirs", ["a_20250101T000000Z", "b_20250101T000000Z"]);
    memo.setMetrics(0, stat(1), { sha256: s1, score: 0.61, metric: "pr_auc", problem: null });
    memo.setMetrics(1, stat(2), { sha256: s2, score: -1, metric: "unknown", problem: ["invalid_json", "broken"] });
    memo.setModel(1, stat(3), m2);
    const decoded = ScanMemo.decode(memo.encode({ note: "extra" }));
    expect(decoded?.extra).toEqual({ note: "extra" });
    expect(decoded?.listing).toBeNull();
    const back = decoded!.memo;
    expect(back.metricsHold(0, stat(1))).toBe(true);
    expect([back.score(0), back.metric(0), back.metricsSha256(0), back.problem(0)]).toEqual([0.61, "pr_auc", s1, null]);
    expect(back.problem(1)).toEqual(["invalid_json", "broken"]);
    expect(back.model(1, stat(3))).toBe(m2);
    expect(back.model(0, stat(3))).toBeUndefined();
    for (const field of ["dev", "ino", "size", "mtimeMs", "ctimeMs"] as const) {
      const moved = { ...stat(1), [field]: stat(1)[field] + 1 } as Stats;
      expect(back.metricsHold(0, moved)).toBe(false);
    }
    // Decoded facts survive a second round, with one of them replaced.
    const again = ScanMemo.from(back, "dirs", back.stems);
    again.setModel(0, stat(4), s2);
    const twice = ScanMemo.decode(again.encode(null))!.memo;
    expect([twice.metricsSha256(0), twice.model(0, stat(4)), twice.metricsSha256(1), twice.model(1, stat(3))]).toEqual([s1, s2, s2, m2]);
  });

  it("saves the listing it is aligned with, names and all", () => {
    const stems = ["gbm_20250101T000000Z", "rf_éü_20250102T000000Z"];
    const listing: ListedVersion[] = [
      [stems[0]!, "gbm", "20250101T000000Z", true],
      [stems[1]!, "rf_éü", "20250102T000000Z", false],
    ];
    const memo = ScanMemo.from(null, "dirs", stems);
    expect(ScanMemo.decode(memo.encode(null, listing))?.listing).toEqual(listing);
    // A listing of other versions is not saved as this memo's.
    expect(ScanMemo.decode(memo.encode(null, listing.slice(0, 1)))?.listing).toBeNull();
  });

  it("refuses a truncated or foreign buffer, and does not remember a malformed hash", () => {
    const memo = ScanMemo.from(null, "d", ["a_20250101T000000Z"]);
    const bytes = memo.encode(null);
    expect(ScanMemo.decode(bytes.subarray(0, bytes.length - 8))).toBeNull();
    expect(ScanMemo.decode(Buffer.from("{}"))).toBeNull();
    memo.setMetrics(0, stat(1), { sha256: "not a hash", score: 0.7, metric: "pr_auc", problem: null });
    expect(memo.metricsHold(0, stat(1))).toBe(false);
  });

  it("finds a stem wherever it is, in listing order or not", () => {
    const hour = (h: number) => `2025010${1 + Math.floor(h / 24)}T${String(h % 24).padStart(2, "0")}0000Z`;
    // Listing order: by timestamp, several model types sharing one.
    const sorted = Array.from({ length: 90 }, (_, k) => `${["gbm", "rf", "lr"][k % 3]}_${hour(Math.floor(k / 3))}`);
    const shuffled = [...sorted].reverse();
    for (const stems of [sorted, shuffled]) {
      const memo = ScanMemo.from(null, "d", stems);
      // More lookups than the binary search serves, so the map is used too.
      for (let round = 0; round < 2; round++) {
        for (const [k, stem] of stems.entries()) expect(memo.indexOf(stem, (k + 7) % stems.length)).toBe(k);
        expect(memo.indexOf("gbm_20250101T235959Z", 0)).toBe(-1);
        expect(memo.indexOf("xgb_20250101T000000Z", 0)).toBe(-1);
      }
    }
  });

  it("carries facts to a changed listing by stem", () => {
    const prior = ScanMemo.from(null, "old", ["a_20250101T000000Z", "b_20250101T000000Z"]);
    prior.setMetrics(1, stat(2), { sha256: s2, score: 0.7, metric: "roc_auc", problem: null });
    const decoded = ScanMemo.decode(prior.encode(null))!.memo;
    for (const from of [prior, decoded]) {
      const next = ScanMemo.from(from, "new", ["new_20250101T000000Z", "b_20250101T000000Z", "a_20250101T000000Z"]);
      expect(next.changed).toBe(true);
      expect(next.metricsHold(1, stat(2))).toBe(true);
      expect([next.score(1), next.metric(1), next.metricsSha256(1)]).toEqual([0.7, "roc_auc", s2]);
      expect(next.metricsHold(0, stat(2))).toBe(false);
    }
  });
});

describe("a plan's lean scan", () => {
  let root: string;
  beforeAll(async () => {
    root = tempRegistry();
    await new Promise((r) => setTimeout(r, 1100));
    // What an earlier CLI run would have saved.
    const loaded = loadScanCache(root);
    await scanRegistry(root, { metrics: "scores" });
    saveScanCache(root, loaded);
  });
  afterAll(() => removeRegistry(root));

  // A new "process" each time: the memo is loaded from disk (warm) or there is none (cold); either way
  // most versions stay memo rows.
  async function bothScans(cold = false) {
    if (cold) rmSync(join(root, CACHE), { force: true });
    loadScanCache(root);
    const lean = await scanForPlan(root);
    const full = await scanRegistry(root, { metrics: "scores" });
    return { lean, full };
  }

  it("agrees with a full scan in every production state, and on every version asked for", async () => {
    const alias = join(root, "models", "production_latest.joblib");
    const metricsAlias = join(root, "metrics", "production_latest.json");
    const states: [string, () => void][] = [
      ["ok", () => {}],
      ["mismatched", () => copyFileSync(join(root, "metrics", `${BEST}.json`), metricsAlias)],
      ["unknown", () => writeFileSync(alias, "bytes of no version")],
      ["missing", () => rmSync(alias)],
    ];
    for (const [state, arrange] of states) {
      arrange();
      // The alias files just written must settle before a memo may hold them.
      await new Promise((r) => setTimeout(r, 1100));
      for (const cold of [true, false]) {
        const { lean, full } = await bothScans(cold);
        const seen = { state, cold, best: lean.best, production: lean.production };
        expect(seen).toEqual({ state, cold, best: full.best, production: full.production });
        expect(lean.production.state).toBe(state);
        for (const v of full.versions) expect(lean.version(v.stem)).toEqual(v);
        expect(lean.version("nothing_20250101T000000Z")).toBeUndefined();
        saveScanCache(root, { memo: false, aliases: 0, reports: 0 });
      }
    }
  });

  it("reads a metrics file that changed since the memo, and ranks it", async () => {
    const file = join(root, "metrics", `${PRODUCTION}.json`);
    writeFileSync(file, JSON.stringify({ pr_auc: 0.99 }));
    const { lean, full } = await bothScans();
    expect(lean.best).toBe(PRODUCTION);
    expect(full.best).toBe(PRODUCTION);
    expect(lean.version(PRODUCTION)?.score).toBe(0.99);
  });
});

describe("settledAt", () => {
  it("trusts a file only once it has been still for a second before the read began", () => {
    const st = { mtimeMs: 10_000, ctimeMs: 10_500 } as Stats;
    expect(settledAt(st, 11_400)).toBe(false);
    expect(settledAt(st, 11_600)).toBe(true);
  });
});

describe("a large scan shared with the CLI's worker thread", () => {
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "registry-large-"));
    // @ts-expect-error: a plain .mjs script without types
    const { generateRegistry } = await import("../../../bench/generate.mjs");
    generateRegistry(root, 2600);
    // A few broken files among them, in the half the worker reads.
    writeFileSync(join(root, "metrics", readdirSync(join(root, "metrics")).sort()[2500] as string), "{ not json");
    await new Promise((r) => setTimeout(r, 1100));
  });
  afterAll(() => removeRegistry(root));

  it("agrees with a scan done in one thread, cold and warm", async () => {
    const alone = await scanRegistry(root);
    const expected = {
      best: alone.best,
      production: alone.production.stem,
      scores: Object.fromEntries(alone.versions.map((v) => [v.stem, v.score])),
      problems: alone.problems.map((p) => p.reason),
    };
    for (const run of ["cold", "warm"]) {
      const listed = await cli(root, "list");
      expect({
        run,
        best: listed.best,
        production: (listed.production as { stem: string }).stem,
        scores: scores(listed),
        problems: (listed.problems as { reason: string }[]).map((p) => p.reason),
      }).toEqual({ run, ...expected });
    }
    expect(await cli(root, "promote", "--dry-run")).toMatchObject({ to: alone.best, from: alone.production.stem });
  });

  it("plans the same from a cold shared scan, and remembers each score it read the way it was read", async () => {
    rmSync(join(root, ".registry"), { recursive: true, force: true });
    const alone = await scanRegistry(root);
    const plan = { to: alone.best, from: alone.production.stem };
    expect(await cli(root, "promote", "--dry-run")).toMatchObject(plan);
    // `list` starts from what that cold plan remembered (rows built from the worker's packed reads too).
    expect(scores(await cli(root, "list"))).toEqual(Object.fromEntries(alone.versions.map((v) => [v.stem, v.score])));
    expect(await cli(root, "promote", "--dry-run")).toMatchObject(plan);
  });
});
