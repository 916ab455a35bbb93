import { type MetricsHighlights, type Production, UNKNOWN_METRIC, type Version } from "@/lib/registry";

const NO_HIGHLIGHTS: MetricsHighlights = {
  prAuc: null,
  rocAuc: null,
  precisionAt50: null,
  recallAt50: null,
  trainRows: null,
  testRows: null,
  dataVersion: null,
  gitCommit: null,
  trainedBy: null,
};

/**
 * One version as the overview table shows it: plain, serialisable fields only, so a page of rows can
 * cross the server/client boundary (MetricsDoc holds null-prototype objects, which React cannot send).
 */
export interface VersionRow extends MetricsHighlights {
  stem: string;
  modelType: string;
  trainedAt: string;
  /** Null when the version has no usable score. */
  score: number | null;
  metric: string;
  /** Score minus production's score; null when either is missing or they use different metrics. */
  delta: number | null;
  isProduction: boolean;
  isBest: boolean;
  /** Why the metrics file could not be used, when it exists but is broken. */
  metricsError: string | null;
  /** The static inspector's verdict on the model file, when inspected (visible rows only). */
  safety?: { verdict: string; reason: string } | null;
}

/** Projects a scanned version onto the fields the table shows, with its delta against production. Pure. */
export function toRow(v: Version, production: Production): VersionRow {
  const score = v.metric === UNKNOWN_METRIC ? null : v.score;
  const comparable = score !== null && production.score !== null && production.metric === v.metric;
  return {
    stem: v.stem,
    modelType: v.modelType,
    trainedAt: v.timestamp,
    score,
    metric: v.metric,
    ...(v.highlights ?? NO_HIGHLIGHTS),
    delta: comparable ? v.score - (production.score as number) : null,
    isProduction: v.isProduction,
    isBest: v.isBest,
    metricsError: v.metricsError,
  };
}
