import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { type LoadedVersion, loadVersion, NESTED_TOO_DEEPLY, parseMetricsText, scanRegistry } from "@/lib/registry";
import { compareVersions, MAX_CELL_CHARS, MAX_COMPARE_ROWS, show } from "./compare";
import { toRow } from "./version-rows";

// The demo registry shipped in the repo, read (never written) as real data.
const ARTIFACTS = resolve(__dirname, "../../artifacts");
const PRODUCTION = "baseline_logreg_20250211T143000Z";
const BEST = "candidate_logreg_20250305T101000Z";

/** The demo registry with every version read whole, as the compare page reads the ones it shows. */
async function scanLoaded() {
  const s = await scanRegistry(ARTIFACTS);
  return { ...s, versions: s.versions.map((v) => loadVersion(ARTIFACTS, v)) };
}

describe("compareVersions on the demo registry", () => {
  it("lines up metrics, flags differences and marks the best metric value", async () => {
    const s = await scanLoaded();
    const picked = [PRODUCTION, BEST].map((stem) => s.versions.find((v) => v.stem === stem)!);
    const c = compareVersions(picked);
    expect(c.stems).toEqual([PRODUCTION, BEST]);
    const pr = c.rows.find((r) => r.section === "metrics" && r.key === "pr_auc")!;
    expect(pr.display).toEqual(["0.5679", "0.6532"]);
    expect(pr.differs).toBe(true);
    expect(pr.best).toEqual([1]);
    const rows = c.rows.find((r) => r.key === "trainRows")!;
    expect(rows).toMatchObject({ differs: false, best: [], display: ["4,000", "4,000"] });
    const cParam = c.rows.find((r) => r.section === "hyperparameters" && r.key === "C")!;
    expect(cParam.display).toEqual(["0.001", "1"]);
    expect(c.rows.find((r) => r.key === "score")!.best).toEqual([1]);
    // Times read as on every other page; the stem's prefix and the file's estimator are two rows, not one.
    expect(c.rows.find((r) => r.key === "trainedAt")!.display).toEqual(["2025-02-11 14:30 UTC", "2025-03-05 10:10 UTC"]);
    expect(c.rows.find((r) => r.key === "modelType")!.display).toEqual(["baseline_logreg", "candidate_logreg"]);
    expect(c.rows.find((r) => r.key === "estimator")!.display).toEqual(["logistic_regression", "logistic_regression"]);
  });

  it("shows a missing metric as a dash and keeps it out of the best", async () => {
    const s = await scanLoaded();
    const noMetrics = s.versions.find((v) => v.metrics === null)!;
    const c = compareVersions([noMetrics, s.versions.find((v) => v.stem === BEST)!]);
    const pr = c.rows.find((r) => r.key === "pr_auc")!;
    expect(pr.display[0]).toBe("—");
    expect(pr.best).toEqual([]);
    expect(show(null)).toBe("—");
  });
});

describe("compareVersions on hostile files", () => {
  const withFile = (v: LoadedVersion, stem: string, text: string): LoadedVersion => {
    const parsed = parseMetricsText(text);
    if (!parsed.ok) throw new Error(parsed.message);
    return { ...v, stem, metrics: parsed.doc, score: parsed.doc.score, metric: parsed.doc.metric };
  };
  const huge = (keys: string[]) =>
    `{"metrics": {${keys.map((k, i) => `"${k}": ${i / keys.length}`).join(",")}}, "hyperparameters": {"note": "${"n".repeat(100_000)}"}, "trained_by": "${"t".repeat(50_000)}"}`;

  it("keeps at most MAX_COMPARE_ROWS rows per section and counts, per version, what it left out", async () => {
    const s = await scanLoaded();
    const base = s.versions.find((v) => v.stem === BEST)!;
    const keys = Array.from({ length: 150_000 }, (_, i) => `m${i}`);
    const forwards = huge(keys);
    // The same keys in the opposite order: its values must still line up with the rows kept.
    const backwards = huge([...keys].reverse());
    // Parsed once each: compareVersions only reads the documents.
    const files = [withFile(base, "f", forwards), withFile(base, "b", backwards)];
    let consumed = 0;
    function* versions() {
      for (let i = 0; i < 12; i++) {
        consumed++;
        yield { ...(files[i % 2] as LoadedVersion), stem: `v${i}_20250101T00000${i % 10}Z` };
      }
    }
    const c = compareVersions(versions());
    expect(consumed).toBe(12);
    const metrics = c.rows.filter((r) => r.section === "metrics");
    expect(metrics).toHaveLength(MAX_COMPARE_ROWS);
    expect(metrics[0]?.key).toBe("m0");
    expect(c.notShown.metrics).toEqual(Array(12).fill(150_000 - MAX_COMPARE_ROWS));
    expect(c.notShown.hyperparameters).toEqual(Array(12).fill(0));
    const m7 = metrics.find((r) => r.key === "m7")!;
    expect(m7.values[0]).toBe(7 / 150_000);
    expect(m7.values[1]).toBe((150_000 - 1 - 7) / 150_000);
    // Everything the page renders, for all twelve, is bounded by rows × versions × cell length.
    const chars = c.rows.reduce((n, r) => n + r.label.length + r.display.reduce((m, d) => m + d.length, 0), 0);
    expect(chars).toBeLessThan(c.rows.length * 13 * (MAX_CELL_CHARS + 40));
    expect(c.rows.find((r) => r.key === "trainedBy")!.display[0]).toMatch(/characters more\)$/);
  });

  it("keeps a key a later version brings while there is room, and an empty cell for those without it", async () => {
    const s = await scanLoaded();
    const base = s.versions.find((v) => v.stem === BEST)!;
    const c = compareVersions([
      withFile(base, "a_20250101T000000Z", '{"metrics": {"pr_auc": 0.5, "f1": 0.4}}'),
      withFile(base, "b_20250101T000000Z", '{"metrics": {"recall": 0.3, "pr_auc": 0.6}}'),
    ]);
    expect(c.rows.filter((r) => r.section === "metrics").map((r) => [r.key, r.display])).toEqual([
      ["pr_auc", ["0.5000", "0.6000"]],
      ["f1", ["0.4000", "—"]],
      ["recall", ["—", "0.3000"]],
    ]);
  });

  it("shows values nested too deeply as such, and long text that differs past the cut as differing", async () => {
    const s = await scanLoaded();
    const base = s.versions.find((v) => v.stem === BEST)!;
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const c = compareVersions([
      withFile(base, "a_20250101T000000Z", `{"metrics": {"pr_auc": 0.5}, "hyperparameters": {"layers": ${deep}, "s": "${"x".repeat(500)}a"}}`),
      withFile(base, "b_20250101T000000Z", `{"metrics": {"pr_auc": 0.5}, "hyperparameters": {"layers": ${deep}, "s": "${"x".repeat(500)}b"}}`),
    ]);
    const layers = c.rows.find((r) => r.key === "layers")!;
    expect(layers.display[0]).toContain(NESTED_TOO_DEEPLY);
    expect(layers.display[0]!.length).toBeLessThan(MAX_CELL_CHARS + 40);
    expect(layers.differs).toBe(false);
    const text = c.rows.find((r) => r.key === "s")!;
    expect(text.display[0]).toBe(text.display[1]);
    expect(text.differs).toBe(true);
  });
});

describe("toRow", () => {
  it("computes the delta against production on the same metric only", async () => {
    const s = await scanLoaded();
    const best = toRow(s.versions.find((v) => v.stem === BEST)!, s.production);
    expect(best.isBest).toBe(true);
    expect(best.delta).toBeCloseTo(0.653188 - 0.567856, 6);
    expect(best.precisionAt50).toBe(0.84);
    const prod = toRow(s.versions.find((v) => v.stem === PRODUCTION)!, s.production);
    expect(prod).toMatchObject({ isProduction: true, delta: 0 });
    const none = toRow(s.versions.find((v) => v.metrics === null)!, s.production);
    expect(none).toMatchObject({ score: null, delta: null, prAuc: null });
  });
});
