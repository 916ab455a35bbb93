import type { VersionRow } from "./version-rows";

/** One plotted version: time in epoch ms so the chart can use a numeric time axis. */
export interface ChartPoint {
  stem: string;
  modelType: string;
  t: number;
  prAuc: number | null;
  rocAuc: number | null;
  isProduction: boolean;
  isBest: boolean;
}

export interface ChartSeries {
  modelType: string;
  points: ChartPoint[];
  /** How many versions of this type exist before downsampling. */
  total: number;
}

export interface ChartData {
  series: ChartSeries[];
  production: ChartPoint | null;
  best: ChartPoint | null;
  /** Versions with at least one plottable metric. */
  plotted: number;
  shown: number;
}

export const MAX_POINTS_PER_SERIES = 200;
/**
 * All series together. Every point is several SVG elements drawn by recharts in the browser: at 400 the
 * three charts kept the main thread busy for ~550 ms after load on this machine, at 200 ~250 ms (the
 * overview then answers a click within 1 s). Production, best and each bucket's extremes are always kept.
 */
export const MAX_POINTS_TOTAL = 200;
const MIN_POINTS_PER_SERIES = 40;

/**
 * Groups versions by model type and thins each series to at most `max` points for display. Pure.
 * Production and best are always kept, as are each series' first and last points and, per time bucket,
 * the lowest and highest PR-AUC and ROC-AUC, so spikes and dips survive downsampling.
 */
export function buildChartData(rows: readonly VersionRow[], maxPerSeries = MAX_POINTS_PER_SERIES): ChartData {
  const byType = new Map<string, ChartPoint[]>();
  let production: ChartPoint | null = null;
  let best: ChartPoint | null = null;
  for (const r of rows) {
    if (r.prAuc === null && r.rocAuc === null) continue;
    const p: ChartPoint = {
      stem: r.stem,
      modelType: r.modelType,
      t: Date.parse(r.trainedAt),
      prAuc: r.prAuc,
      rocAuc: r.rocAuc,
      isProduction: r.isProduction,
      isBest: r.isBest,
    };
    if (p.isProduction) production = p;
    if (p.isBest) best = p;
    const list = byType.get(r.modelType) ?? [];
    list.push(p);
    byType.set(r.modelType, list);
  }
  const max = Math.min(maxPerSeries, Math.max(MIN_POINTS_PER_SERIES, Math.floor(MAX_POINTS_TOTAL / Math.max(1, byType.size))));
  const series = [...byType.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([modelType, points]) => {
      points.sort((a, b) => a.t - b.t || a.stem.localeCompare(b.stem));
      return { modelType, points: downsample(points, max), total: points.length };
    });
  const plotted = series.reduce((n, s) => n + s.total, 0);
  const shown = series.reduce((n, s) => n + s.points.length, 0);
  return { series, production, best, plotted, shown };
}

/** Thins time-ordered points to at most `max`, keeping pinned points and per-bucket extremes. Pure. */
export function downsample(points: readonly ChartPoint[], max: number): ChartPoint[] {
  if (points.length <= max) return [...points];
  const keep = new Set<number>([0, points.length - 1]);
  points.forEach((p, i) => {
    if (p.isProduction || p.isBest) keep.add(i);
  });
  // Each bucket contributes up to four extremes; size the buckets so the total stays within max.
  const buckets = Math.max(1, Math.floor((max - keep.size) / 4));
  const width = points.length / buckets;
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * width);
    const end = Math.min(points.length, Math.floor((b + 1) * width));
    const ext = { prMin: -1, prMax: -1, rocMin: -1, rocMax: -1 };
    for (let i = start; i < end; i++) {
      const p = points[i] as ChartPoint;
      if (p.prAuc !== null) {
        if (ext.prMin < 0 || p.prAuc < (points[ext.prMin] as ChartPoint).prAuc!) ext.prMin = i;
        if (ext.prMax < 0 || p.prAuc > (points[ext.prMax] as ChartPoint).prAuc!) ext.prMax = i;
      }
      if (p.rocAuc !== null) {
        if (ext.rocMin < 0 || p.rocAuc < (points[ext.rocMin] as ChartPoint).rocAuc!) ext.rocMin = i;
        if (ext.rocMax < 0 || p.rocAuc > (points[ext.rocMax] as ChartPoint).rocAuc!) ext.rocMax = i;
      }
    }
    for (const i of Object.values(ext)) if (i >= 0) keep.add(i);
  }
  return [...keep].sort((a, b) => a - b).map((i) => points[i] as ChartPoint);
}

/**
 * Evenly spaced first-of-month ticks (UTC) between two instants, at most `maxTicks` of them; falls back
 * to the two ends when the range is under a month. Pure.
 */
export function monthTicks(min: number, max: number, maxTicks = 6): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max <= min) return Number.isFinite(min) ? [min] : [];
  const start = new Date(min);
  const y = start.getUTCFullYear();
  let m = start.getUTCMonth() + (start.getUTCDate() === 1 && start.getUTCHours() === 0 ? 0 : 1);
  const firsts: number[] = [];
  for (let t = Date.UTC(y, m, 1); t <= max; t = Date.UTC(y, ++m, 1)) firsts.push(t);
  if (firsts.length === 0) return [min, max];
  const step = Math.ceil(firsts.length / maxTicks);
  return firsts.filter((_, i) => i % step === 0);
}

const DAY_MS = 86_400_000;

/**
 * A time axis's range: the first and last instants with a margin of 4% of the span (at least a day) either
 * side, so no point sits on the plot's edge, and a single instant still has an axis. Pure.
 */
export function timeDomain(first: number, last: number): [number, number] {
  const pad = Math.max(DAY_MS, (last - first) * 0.04);
  return [first - pad, last + pad];
}

/**
 * A metric axis's range: the values' minimum and maximum (and any `include`, e.g. the release threshold,
 * which is kept off the edges) widened to the next multiple of `step` (never past 0 or 1, where the metrics
 * end), so the points sit inside round tick values. [0, 1] for no values. Pure.
 */
export function metricDomain(values: Iterable<number | null>, include: readonly number[] = [], step = 0.05): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of [...values, ...include]) {
    if (v === null || !Number.isFinite(v)) continue;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  if (min > max) return [0, 1];
  let lo = round(Math.floor(round(min / step)) * step);
  let hi = round(Math.ceil(round(max / step)) * step);
  if (lo === hi) {
    lo = round(lo - step);
    hi = round(hi + step);
  }
  // An included value (the threshold line, with its label) sits inside the range, not on its edge.
  for (const v of include) {
    if (v >= hi) hi = round(hi + step);
    if (v <= lo) lo = round(lo - step);
  }
  if (min >= 0) lo = Math.max(0, lo);
  if (max <= 1) hi = Math.min(1, hi);
  return [lo, hi];
}

/** Round ticks for a metricDomain: every multiple of the smallest step of 0.05, 0.1, 0.2 or 0.25 that gives at most `max`. Pure. */
export function metricTicks([lo, hi]: readonly [number, number], max = 6): number[] {
  for (const step of [0.05, 0.1, 0.2, 0.25, 0.5, 1]) {
    const first = Math.ceil(round(lo / step));
    const last = Math.floor(round(hi / step));
    if (last - first + 1 <= max) return Array.from({ length: Math.max(0, last - first + 1) }, (_, k) => round((first + k) * step));
  }
  return [lo, hi];
}

/** Rounded to nine decimals, past floating-point noise: 0.7 / 0.05 is 13.999999999999998. Pure. */
function round(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}
