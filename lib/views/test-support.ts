import type { VersionRow } from "./version-rows";

/** A plain table row with sensible defaults; tests override only what they are about. */
export function makeRow(over: Partial<VersionRow> & { stem: string }): VersionRow {
  return {
    modelType: "logreg",
    trainedAt: "2025-01-01T00:00:00Z",
    score: 0.5,
    metric: "pr_auc",
    prAuc: 0.5,
    rocAuc: 0.7,
    precisionAt50: null,
    recallAt50: null,
    trainRows: 100,
    testRows: 10,
    dataVersion: null,
    gitCommit: null,
    trainedBy: null,
    delta: null,
    isProduction: false,
    isBest: false,
    metricsError: null,
    ...over,
  };
}
