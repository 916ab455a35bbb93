import { copyFileSync, linkSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freezeSnapshot, loadVersion, scanRegistry } from "./scan";
import { BEST, MANIFEST, PRODUCTION, removeRegistry, tempRegistry } from "./test-support/fixture";

let root: string;
beforeEach(() => {
  root = tempRegistry();
});
afterEach(() => removeRegistry(root));

describe("scanRegistry on the fixture corpus", () => {
  it("lists every version the MANIFEST expects with its score and metric", async () => {
    const s = await scanRegistry(root);
    const expected = MANIFEST.versions.filter((v: { status: string }) => v.status === "ok");
    expect(s.versions.map((v) => v.stem).sort()).toEqual(expected.map((v: { stem: string }) => v.stem).sort());
    for (const e of expected) {
      const v = s.versions.find((x) => x.stem === e.stem)!;
      expect(v.score, e.stem).toBe(e.score);
      expect(v.metric, e.stem).toBe(e.metric);
      expect(v.modelType).toBe(e.model_type);
      expect(v.timestamp).toBe(e.timestamp);
    }
  });

  it("reports the orphan metrics file as a problem, never as a version", async () => {
    const s = await scanRegistry(root);
    const skipped = MANIFEST.versions.filter((v: { status: string }) => v.status === "skipped");
    for (const e of skipped) {
      expect(s.versions.some((v) => v.stem === e.stem)).toBe(false);
      expect(s.problems).toContainEqual(expect.objectContaining({ file: `metrics/${e.stem}.json`, reason: e.reason }));
    }
    expect(s.problems).toHaveLength(skipped.length);
  });

  it("finds production by content hash and the best version", async () => {
    const s = await scanRegistry(root);
    expect(s.production).toMatchObject({ state: "ok", stem: PRODUCTION, metricsStem: PRODUCTION });
    expect(s.best).toBe(MANIFEST.expected_best.stem);
    expect(s.best).toBe(BEST);
    expect(s.versions.filter((v) => v.isProduction).map((v) => v.stem)).toEqual([PRODUCTION]);
    const sha = MANIFEST.files.find((f: { path: string }) => f.path === "artifacts/models/production_latest.joblib").sha256;
    expect(s.production.sha256).toBe(sha);
  });

  it("gives a model without metrics score -1 and metric unknown", async () => {
    const s = await scanRegistry(root);
    const v = s.versions.find((x) => x.stem === "candidate_logreg_20251120T093000Z")!;
    expect(v).toMatchObject({ score: -1, metric: "unknown", highlights: null, metricsFile: null });
  });
});

describe("how much a scan keeps of each metrics file", () => {
  it("agrees on scores, best and production at every detail, and reads documents on demand", async () => {
    const full = await scanRegistry(root, { models: true });
    for (const options of [{ metrics: "highlights" }, { metrics: "scores" }, { metrics: "scores", models: true }] as const) {
      const lean = await scanRegistry(root, options);
      expect([lean.best, lean.production.stem, lean.production.state], JSON.stringify(options)).toEqual([
        full.best,
        full.production.stem,
        full.production.state,
      ]);
      expect(lean.versions.map((v) => [v.stem, v.score, v.metric])).toEqual(full.versions.map((v) => [v.stem, v.score, v.metric]));
      expect(lean.problems).toEqual(full.problems);
    }
    const highlights = await scanRegistry(root, { metrics: "highlights" });
    const best = highlights.versions.find((v) => v.stem === BEST)!;
    const bestFull = full.versions.find((v) => v.stem === BEST)!;
    expect(best).not.toHaveProperty("metrics");
    expect(best).not.toHaveProperty("sha256");
    expect(best.highlights).toEqual(bestFull.highlights);
    const loaded = loadVersion(root, best);
    expect(loaded.highlights).toMatchObject({ prAuc: bestFull.score, trainedBy: loaded.metrics?.meta.trainedBy });
    expect([loaded.sha256, loaded.size]).toEqual([bestFull.sha256, bestFull.size]);
    expect(loaded.metrics?.score).toBe(bestFull.score);
    // A new object: the scanned version is left as it was.
    expect(best).not.toHaveProperty("metrics");
    const scores = await scanRegistry(root, { metrics: "scores" });
    expect(scores.versions.find((x) => x.stem === BEST)).toMatchObject({ highlights: null });
  });

  it("never changes a frozen snapshot when versions are loaded from it", async () => {
    const s = freezeSnapshot(await scanRegistry(root));
    const before = JSON.stringify(s);
    for (const v of s.versions) loadVersion(root, v);
    expect(JSON.stringify(s)).toBe(before);
    expect(Object.isFrozen(s.versions[0])).toBe(true);
    expect(() => {
      (s.versions[0] as { score: number }).score = 2;
    }).toThrow(TypeError);
  });
});

describe("problems", () => {
  it("flags bad names, impossible timestamps, case-changed extensions, symlinks and folders", async () => {
    const m = join(root, "models");
    writeFileSync(join(m, "nounderscore.joblib"), "x");
    writeFileSync(join(m, "model_20250230T101000Z.joblib"), "x");
    writeFileSync(join(m, "model_20250101T240000Z.joblib"), "x");
    writeFileSync(join(m, "model_2025-01-01.joblib"), "x");
    writeFileSync(join(m, "model_20250101T101000Z.JOBLIB"), "x");
    symlinkSync(join(m, `${BEST}.joblib`), join(m, "linked_20250101T101000Z.joblib"));
    mkdirSync(join(m, "dir_20250101T101000Z.joblib"));
    const s = await scanRegistry(root);
    const reason = (f: string) => s.problems.find((p) => p.file === `models/${f}`)?.reason;
    expect(reason("nounderscore.joblib")).toBe("bad_name");
    expect(reason("model_20250230T101000Z.joblib")).toBe("bad_timestamp");
    expect(reason("model_20250101T240000Z.joblib")).toBe("bad_timestamp");
    expect(reason("model_2025-01-01.joblib")).toBe("bad_timestamp");
    expect(reason("model_20250101T101000Z.JOBLIB")).toBe("unexpected_file");
    expect(reason("linked_20250101T101000Z.joblib")).toBe("symlink");
    expect(reason("dir_20250101T101000Z.joblib")).toBe("not_regular_file");
    expect(s.versions.some((v) => v.stem.startsWith("linked_") || v.stem.startsWith("dir_"))).toBe(false);
  });

  it("lists only names that can be named: markup, spaces and overlong names are bad_name problems", async () => {
    const markup = "<img src=x onerror=alert(1)>_20250607T000000Z";
    const names = [markup, "my model_20250607T000000Z", `${"a".repeat(190)}_20250607T000000Z`];
    for (const stem of names) {
      copyFileSync(join(root, "models", `${BEST}.joblib`), join(root, "models", `${stem}.joblib`));
      writeFileSync(join(root, "metrics", `${stem}.json`), '{"metrics": {"pr_auc": 0.99}}');
    }
    const s = await scanRegistry(root);
    for (const stem of names) {
      expect(s.versions.some((v) => v.stem === stem)).toBe(false);
      expect(s.problems.find((p) => p.file === `models/${stem}.joblib`)?.reason).toBe("bad_name");
      expect(s.problems.find((p) => p.file === `metrics/${stem}.json`)?.reason).toBe("bad_name");
    }
    // Not the best either, though its score is the highest.
    expect(s.best).toBe(BEST);
  });

  it("lists a version whose metrics are broken, with score -1, and reports the file", async () => {
    const stem = "candidate_logreg_20250422T163000Z";
    writeFileSync(join(root, "metrics", `${stem}.json`), '{"pr_auc": 0.9,');
    const s = await scanRegistry(root);
    const v = s.versions.find((x) => x.stem === stem)!;
    expect(v).toMatchObject({ score: -1, metric: "unknown" });
    expect(v.metricsError).toMatch(/not valid JSON/);
    expect(s.problems).toContainEqual(expect.objectContaining({ file: `metrics/${stem}.json`, reason: "invalid_json" }));
  });

  it("refuses metrics that are not an object or too large, and never reads a symlinked metrics file", async () => {
    writeFileSync(join(root, "metrics", "candidate_logreg_20250422T163000Z.json"), "[1,2]");
    writeFileSync(join(root, "metrics", "candidate_logreg_20250709T120000Z.json"), `{"pad":"${"x".repeat(5 * 1024 * 1024)}"}`);
    const linked = join(root, "metrics", "candidate_logreg_20250818T074500Z.json");
    rmSync(linked);
    symlinkSync("/etc/passwd", linked);
    const s = await scanRegistry(root);
    const reason = (stem: string) => s.problems.find((p) => p.file === `metrics/${stem}.json`)?.reason;
    expect(reason("candidate_logreg_20250422T163000Z")).toBe("not_object");
    expect(reason("candidate_logreg_20250709T120000Z")).toBe("too_large");
    expect(reason("candidate_logreg_20250818T074500Z")).toBe("symlink");
  });

  it("never hangs on a FIFO model or a metrics file linked to /dev/zero, and never treats them as versions", async () => {
    const { execFileSync } = await import("node:child_process");
    const fifo = join(root, "models", "fifo_20250101T000000Z.joblib");
    execFileSync("mkfifo", [fifo]);
    writeFileSync(join(root, "metrics", "fifo_20250101T000000Z.json"), "{}");
    const stem = "candidate_logreg_20250422T163000Z";
    rmSync(join(root, "metrics", `${stem}.json`));
    symlinkSync("/dev/zero", join(root, "metrics", `${stem}.json`));
    rmSync(join(root, "models", `${stem}.joblib`));
    symlinkSync("/dev/zero", join(root, "models", `${stem}.joblib`));
    // A hang would never return: that the scan returns at all, with these verdicts, is the proof.
    const s = await scanRegistry(root);
    const reason = (f: string) => s.problems.find((p) => p.file === f)?.reason;
    expect(reason("models/fifo_20250101T000000Z.joblib")).toBe("not_regular_file");
    expect(reason(`models/${stem}.joblib`)).toBe("symlink");
    expect(s.versions.some((v) => v.stem === stem || v.stem.startsWith("fifo_"))).toBe(false);
  });

  it("reports leftover temp files from an interrupted promotion", async () => {
    writeFileSync(join(root, "models", ".production_latest.abc.tmp"), "partial");
    const s = await scanRegistry(root);
    expect(s.problems).toContainEqual(expect.objectContaining({ reason: "temp_file" }));
  });
});

describe("production alias state", () => {
  it("is missing without an alias", async () => {
    rmSync(join(root, "models", "production_latest.joblib"));
    const s = await scanRegistry(root);
    expect(s.production).toMatchObject({ state: "missing", stem: null });
    expect(s.versions.some((v) => v.isProduction)).toBe(false);
  });

  it("is unknown when the alias matches no version", async () => {
    writeFileSync(join(root, "models", "production_latest.joblib"), "hand-written bytes");
    const s = await scanRegistry(root);
    expect(s.production).toMatchObject({ state: "unknown", stem: null });
  });

  it("is mismatched when the metrics alias belongs to another version", async () => {
    copyFileSync(join(root, "metrics", `${BEST}.json`), join(root, "metrics", "production_latest.json"));
    const s = await scanRegistry(root);
    expect(s.production).toMatchObject({ state: "mismatched", stem: PRODUCTION, metricsStem: BEST });
  });

  it("recognises a hand-copied alias (cp) and a hard link by content", async () => {
    copyFileSync(join(root, "models", `${BEST}.joblib`), join(root, "models", "production_latest.joblib"));
    copyFileSync(join(root, "metrics", `${BEST}.json`), join(root, "metrics", "production_latest.json"));
    expect((await scanRegistry(root)).production).toMatchObject({ state: "ok", stem: BEST });
    rmSync(join(root, "models", "production_latest.joblib"));
    linkSync(join(root, "models", `${PRODUCTION}.joblib`), join(root, "models", "production_latest.joblib"));
    expect((await scanRegistry(root)).production).toMatchObject({ state: "mismatched", stem: PRODUCTION });
  });

  it("sees a new run written by training on the next scan", async () => {
    const stem = "candidate_logreg_20260101T000000Z";
    copyFileSync(join(root, "models", `${BEST}.joblib`), join(root, "models", `${stem}.joblib`));
    writeFileSync(join(root, "metrics", `${stem}.json`), JSON.stringify({ metrics: { pr_auc: 0.99 } }));
    const s = await scanRegistry(root);
    expect(s.best).toBe(stem);
  });
});
