import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { inspectBytes, inspectFile } from "./inspect";
import { clearInspectionCache, inspectFileIsolated, inspectionCacheSize, workerBundlePath } from "./run-isolated";
import { FIXTURE_ROOT, modelFixtures, readFixture } from "./test-support/fixtures";
import type { InspectionReport } from "./types";

const dir = mkdtempSync(path.join(tmpdir(), "inspect-isolated-"));
const bundle = path.join(dir, "inspect-worker.mjs");
const model = modelFixtures().find((m) => m.joblib_compression === "lzma") ?? modelFixtures()[0];
const fixturePath = path.join(FIXTURE_ROOT, (model as { path: string }).path);
const savedEnv = process.env.REGISTRY_INSPECT_WORKER;

function withoutTiming(report: InspectionReport): Omit<InspectionReport, "stats"> & { stats: object } {
  const { elapsedMs: _ignored, ...stats } = report.stats;
  return { ...report, stats };
}

beforeAll(async () => {
  // The same bundle the CLI build produces from lib/worker/entry.ts.
  await build({
    entryPoints: [path.resolve(__dirname, "../worker/entry.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: bundle,
    logLevel: "silent",
  });
});

afterEach(() => {
  clearInspectionCache();
  if (savedEnv === undefined) delete process.env.REGISTRY_INSPECT_WORKER;
  else process.env.REGISTRY_INSPECT_WORKER = savedEnv;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("inspectFileIsolated", () => {
  it("inspects in a worker and returns the in-thread report", async () => {
    process.env.REGISTRY_INSPECT_WORKER = bundle;
    const report = await inspectFileIsolated(fixturePath);
    expect(report.verdict).toBe("safe");
    expect(withoutTiming(report)).toEqual(withoutTiming(inspectBytes(readFixture(model as Parameters<typeof readFixture>[0]))));
  });

  it("serves byte-identical content from the cache without starting a worker", async () => {
    process.env.REGISTRY_INSPECT_WORKER = bundle;
    await inspectFileIsolated(fixturePath);
    expect(inspectionCacheSize()).toBe(1);
    const copy = path.join(dir, "copy.joblib");
    copyFileSync(fixturePath, copy);
    // A 1 ms deadline would kill any worker: only a cache hit can answer "safe".
    const report = await inspectFileIsolated(copy, { timeoutMs: 1 });
    expect(report.verdict).toBe("safe");
    expect(inspectionCacheSize()).toBe(1);
  });

  it("reports a worker that runs past its deadline as malformed, and does not cache that", async () => {
    process.env.REGISTRY_INSPECT_WORKER = bundle;
    const report = await inspectFileIsolated(fixturePath, { timeoutMs: 1 });
    expect(report.verdict).toBe("malformed");
    expect(report.reason).toBe("Inspection exceeded its time limit.");
    expect(inspectionCacheSize()).toBe(0);
  });

  it("reports a worker bundle that fails to load as malformed", async () => {
    const broken = path.join(dir, "broken.mjs");
    writeFileSync(broken, "throw new Error('bundle exploded');\n");
    process.env.REGISTRY_INSPECT_WORKER = broken;
    const report = await inspectFileIsolated(fixturePath);
    expect(report.verdict).toBe("malformed");
    expect(report.reason).toMatch(/bundle exploded/);
  });

  it("runs the web server's own bundle, never the CLI's, and says so when it has none", async () => {
    const cwd = process.cwd();
    const empty = mkdtempSync(path.join(dir, "cwd-"));
    delete process.env.REGISTRY_INSPECT_WORKER;
    process.chdir(empty);
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => void warnings.push(w.code ?? "");
    process.on("warning", onWarning);
    try {
      // A CLI build's bundle may be older than the server's code: it is not the server's worker.
      mkdirSync(path.join(empty, "cli/dist"), { recursive: true });
      writeFileSync(path.join(empty, "cli/dist/inspect-worker.mjs"), "");
      expect(workerBundlePath()).toBeNull();
      expect((await inspectFileIsolated(fixturePath)).verdict).toBe("safe");
      await new Promise((r) => setImmediate(r));
      expect(warnings).toContain("REGISTRY_NO_INSPECT_WORKER");
      // What `npm run build` writes beside the web app.
      mkdirSync(path.join(empty, ".next"), { recursive: true });
      writeFileSync(path.join(empty, ".next/inspect-worker.mjs"), "");
      expect(workerBundlePath()).toBe(path.join(empty, ".next/inspect-worker.mjs"));
    } finally {
      process.off("warning", onWarning);
      process.chdir(cwd);
    }
  });
});

describe("files that must not be read", () => {
  it("refuses a FIFO without blocking on it", async () => {
    const fifo = path.join(dir, "pipe.joblib");
    execFileSync("mkfifo", [fifo]);
    const direct = await inspectFile(fifo);
    expect(direct.verdict).toBe("unsupported");
    expect(direct.reason).toBe("Refused: the path is a FIFO, not a regular file.");
    expect((await inspectFileIsolated(fifo)).verdict).toBe("unsupported");
  });

  it("refuses directories, missing files and files over the size limit", async () => {
    expect((await inspectFile(dir)).reason).toMatch(/a directory, not a regular file/);
    expect((await inspectFile(path.join(dir, "missing.joblib"))).reason).toMatch(/Cannot open the file \(ENOENT\)/);
    const tooBig = await inspectFile(fixturePath, { maxFileBytes: 100 });
    expect(tooBig.verdict).toBe("unsupported");
    expect(tooBig.reason).toMatch(/above the 100-byte inspection limit/);
  });
});
