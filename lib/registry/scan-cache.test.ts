import { execFile } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  type Stats,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settledAt } from "./files";
import { ScanMemo } from "./memo";
import { scanRegistry } from "./scan";
import { BEST, PRODUCTION, removeRegistry, sha, tempRegistry } from "./test-support/fixture";

const BIN = resolve(__dirname, "../../cli/bin.mjs");
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

  it("round-trips through its encoding and holds a fact only for the exact same stamp", () => {
    const memo = ScanMemo.from(null, "dirs", ["a_20250101T000000Z", "b_20250101T000000Z"]);
    memo.setMetrics(0, stat(1), { sha256: "s1", score: 0.61, metric: "pr_auc", problem: null });
    memo.setMetrics(1, stat(2), { sha256: "s2", score: -1, metric: "unknown", problem: ["invalid_json", "broken"] });
    memo.setModel(1, stat(3), "m2");
    const decoded = ScanMemo.decode(memo.encode({ note: "extra" }));
    expect(decoded?.extra).toEqual({ note: "extra" });
    const back = decoded!.memo;
    expect(back.metricsHold(0, stat(1))).toBe(true);
    expect([back.score(0), back.metric(0), back.metricsSha256(0), back.problem(0)]).toEqual([0.61, "pr_auc", "s1", null]);
    expect(back.problem(1)).toEqual(["invalid_json", "broken"]);
    expect(back.model(1, stat(3))).toBe("m2");
    expect(back.model(0, stat(3))).toBeUndefined();
    for (const field of ["dev", "ino", "size", "mtimeMs", "ctimeMs"] as const) {
      const moved = { ...stat(1), [field]: stat(1)[field] + 1 } as Stats;
      expect(back.metricsHold(0, moved)).toBe(false);
    }
  });

  it("refuses a truncated or foreign buffer", () => {
    const bytes = ScanMemo.from(null, "d", ["a_20250101T000000Z"]).encode(null);
    expect(ScanMemo.decode(bytes.subarray(0, bytes.length - 8))).toBeNull();
    expect(ScanMemo.decode(Buffer.from("{}"))).toBeNull();
  });

  it("carries facts to a changed listing by stem", () => {
    const prior = ScanMemo.from(null, "old", ["a_20250101T000000Z", "b_20250101T000000Z"]);
    prior.setMetrics(1, stat(2), { sha256: "s2", score: 0.7, metric: "roc_auc", problem: null });
    const next = ScanMemo.from(prior, "new", ["new_20250101T000000Z", "b_20250101T000000Z", "a_20250101T000000Z"]);
    expect(next.changed).toBe(true);
    expect(next.metricsHold(1, stat(2))).toBe(true);
    expect([next.score(1), next.metric(1)]).toEqual([0.7, "roc_auc"]);
    expect(next.metricsHold(0, stat(2))).toBe(false);
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
    const { generateRegistry } = await import("../../bench/generate.mjs");
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
});
