import { describe, expect, it } from "vitest";
import { buildChartData, MAX_POINTS_PER_SERIES, metricDomain, metricTicks, monthTicks, timeDomain } from "./chart-data";
import { makeRow } from "./test-support";

describe("buildChartData", () => {
  it("keeps small series whole, one series per model type", () => {
    const data = buildChartData([
      makeRow({ stem: "a", modelType: "logreg", trainedAt: "2025-01-02T00:00:00Z" }),
      makeRow({ stem: "b", modelType: "xgb" }),
      makeRow({ stem: "c", modelType: "logreg", trainedAt: "2025-01-01T00:00:00Z", isProduction: true }),
      makeRow({ stem: "no-metrics", prAuc: null, rocAuc: null }),
    ]);
    expect(data.series.map((s) => [s.modelType, s.points.map((p) => p.stem)])).toEqual([
      ["logreg", ["c", "a"]],
      ["xgb", ["b"]],
    ]);
    expect(data.production?.stem).toBe("c");
    expect(data.plotted).toBe(3);
  });

  it("thins 20,000 points to the cap but never drops production, best or the extremes", () => {
    const rows = Array.from({ length: 20_000 }, (_, i) =>
      makeRow({
        stem: `m_${i}`,
        trainedAt: new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString(),
        prAuc: 0.5 + 0.1 * Math.sin(i / 50),
        rocAuc: 0.7 + 0.05 * Math.cos(i / 70),
        isProduction: i === 12_345,
        isBest: i === 777,
      }),
    );
    rows[4_321] = { ...rows[4_321]!, prAuc: 0.01 }; // a single dip that must stay visible
    rows[9_999] = { ...rows[9_999]!, rocAuc: 0.99 }; // a single spike
    const data = buildChartData(rows);
    const points = data.series[0]!.points;
    expect(points.length).toBeLessThanOrEqual(MAX_POINTS_PER_SERIES);
    expect(points.length).toBeGreaterThan(MAX_POINTS_PER_SERIES * 0.8);
    const stems = new Set(points.map((p) => p.stem));
    for (const s of ["m_12345", "m_777", "m_4321", "m_9999", "m_0", "m_19999"]) expect(stems, s).toContain(s);
    expect(points.map((p) => p.t)).toEqual([...points.map((p) => p.t)].sort((a, b) => a - b));
    expect(data.shown).toBe(points.length);
    expect(data.plotted).toBe(20_000);
  });
});

describe("monthTicks", () => {
  it("puts a few first-of-month ticks across the range", () => {
    const ticks = monthTicks(Date.parse("2025-01-14T09:15:00Z"), Date.parse("2025-11-20T09:30:00Z"));
    expect(ticks.map((t) => new Date(t).toISOString().slice(0, 7))).toEqual(["2025-02", "2025-04", "2025-06", "2025-08", "2025-10"]);
    expect(monthTicks(Date.parse("2025-01-02T00:00:00Z"), Date.parse("2025-01-05T00:00:00Z"))).toHaveLength(2);
    expect(monthTicks(5, 5)).toEqual([5]);
  });
});

describe("timeDomain", () => {
  it("keeps the first and last points off the plot's edges, and gives one instant an axis", () => {
    const [first, last] = [Date.parse("2025-01-14T09:15:00Z"), Date.parse("2025-11-20T09:30:00Z")];
    const [lo, hi] = timeDomain(first, last);
    expect(lo).toBeLessThan(first - 7 * 86_400_000);
    expect(hi).toBeGreaterThan(last + 7 * 86_400_000);
    expect(timeDomain(first, first)).toEqual([first - 86_400_000, first + 86_400_000]);
  });
});

describe("metricDomain", () => {
  it("widens the values to round steps, the threshold included", () => {
    expect(metricDomain([0.62, 0.71, null, 0.66])).toEqual([0.6, 0.75]);
    expect(metricDomain([0.62, 0.71], [0.55])).toEqual([0.5, 0.75]);
    // The threshold line is kept off the edge, where its label would be cut.
    expect(metricDomain([0.5791], [0.6])).toEqual([0.55, 0.65]);
    expect(metricDomain([0.62, 0.71], [0.65])).toEqual([0.6, 0.75]);
    expect(metricDomain([0.7, 0.75])).toEqual([0.7, 0.75]);
  });
  it("stays within 0 and 1 for metrics, and gives a range even to one value or none", () => {
    expect(metricDomain([0.98, 1])).toEqual([0.95, 1]);
    expect(metricDomain([0, 0.02])).toEqual([0, 0.05]);
    expect(metricDomain([0.5])).toEqual([0.45, 0.55]);
    expect(metricDomain([1])).toEqual([0.95, 1]);
    expect(metricDomain([])).toEqual([0, 1]);
    expect(metricDomain([null, Number.NaN])).toEqual([0, 1]);
  });
  it("leaves values outside 0..1 their room", () => {
    expect(metricDomain([-0.12, 1.31])).toEqual([-0.15, 1.35]);
  });
});

describe("metricTicks", () => {
  it("puts at most six round ticks across a domain", () => {
    expect(metricTicks([0.45, 0.7])).toEqual([0.45, 0.5, 0.55, 0.6, 0.65, 0.7]);
    expect(metricTicks([0.4, 0.9])).toEqual([0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(metricTicks([0, 1])).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(metricTicks([0.95, 1])).toEqual([0.95, 1]);
    expect(metricTicks([-0.15, 1.35])).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
  });
});
