import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { scanRegistry } from "@/lib/registry";
import { compareVersions, show } from "./compare";
import { toRow } from "./version-rows";

// The demo registry shipped in the repo, read (never written) as real data.
const ARTIFACTS = resolve(__dirname, "../../artifacts");
const PRODUCTION = "baseline_logreg_20250211T143000Z";
const BEST = "candidate_logreg_20250305T101000Z";

describe("compareVersions on the demo registry", () => {
  it("lines up metrics, flags differences and marks the best metric value", async () => {
    const s = await scanRegistry(ARTIFACTS);
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
  });

  it("shows a missing metric as a dash and keeps it out of the best", async () => {
    const s = await scanRegistry(ARTIFACTS);
    const noMetrics = s.versions.find((v) => v.metrics === null)!;
    const c = compareVersions([noMetrics, s.versions.find((v) => v.stem === BEST)!]);
    const pr = c.rows.find((r) => r.key === "pr_auc")!;
    expect(pr.display[0]).toBe("—");
    expect(pr.best).toEqual([]);
    expect(show(null)).toBe("—");
  });
});

describe("toRow", () => {
  it("computes the delta against production on the same metric only", async () => {
    const s = await scanRegistry(ARTIFACTS);
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
