import { fmt, type JsonValue, type LoadedVersion, SCORE_KEYS, UNKNOWN_METRIC } from "@/lib/registry";
import { fmtTime } from "./format";
import { clip, MAX_KEY_CHARS, valueText } from "./json-display";

export type CellValue = string | number | boolean | null;

export interface CompareRow {
  section: "metrics" | "metadata" | "hyperparameters";
  key: string;
  label: string;
  values: CellValue[];
  /** Display text per value, already formatted with fixed decimals and cut to MAX_CELL_CHARS. */
  display: string[];
  /** True when not every version has the same value. */
  differs: boolean;
  /** Indexes of the versions holding the best value (metrics only; empty when not comparable). */
  best: number[];
}

export interface Comparison {
  stems: string[];
  rows: CompareRow[];
  /**
   * Per section, per version: how many of the version's own keys have no row (beyond the first
   * MAX_COMPARE_ROWS keys of the section). All zeros when nothing was left out.
   */
  notShown: { metrics: number[]; hyperparameters: number[] };
}

// Rows per keyed section and characters per cell: with at most a dozen versions side by side, a page of
// ~400 rows of short cells, whatever the files hold.
export const MAX_COMPARE_ROWS = 200;
export const MAX_CELL_CHARS = 200;

// Metrics where a smaller number is the better model.
const LOWER_IS_BETTER = /(loss|brier|error|^mae|^mse|^rmse|_mae|_mse|_rmse)/i;

type Getter = (v: LoadedVersion) => CellValue;
const META: [key: string, label: string, get: Getter][] = [
  ["score", "Score", (v) => (v.metric === UNKNOWN_METRIC ? null : v.score)],
  ["metric", "Score metric", (v) => v.metric],
  // "Model type" is the name's prefix everywhere; the metrics file's model_type names the estimator.
  ["modelType", "Model type", (v) => v.modelType],
  ["estimator", "Estimator", (v) => v.metrics?.meta.modelType ?? null],
  ["trainedAt", "Trained at", (v) => v.metrics?.meta.trainedAt ?? v.timestamp],
  ["trainedBy", "Trained by", (v) => v.metrics?.meta.trainedBy ?? null],
  ["gitCommit", "Git commit", (v) => v.metrics?.meta.gitCommit ?? null],
  ["dataVersion", "Data version", (v) => v.metrics?.meta.dataVersion ?? null],
  ["trainRows", "Train rows", (v) => v.metrics?.meta.trainRows ?? null],
  ["testRows", "Test rows", (v) => v.metrics?.meta.testRows ?? null],
  ["churnRateTrain", "Churn rate (train)", (v) => v.metrics?.meta.churnRateTrain ?? null],
  ["churnRateTest", "Churn rate (test)", (v) => v.metrics?.meta.churnRateTest ?? null],
  ["size", "Model file size (bytes)", (v) => v.size],
  ["sha256", "Model sha256", (v) => v.sha256],
];

/**
 * Lines up metrics, metadata and hyperparameters of several versions side by side, flags the rows whose
 * values differ and marks the best value of each metric row. Pure. See Comparer.
 */
export function compareVersions(versions: Iterable<LoadedVersion>): Comparison {
  const comparer = new Comparer();
  for (const v of versions) comparer.add(v);
  return comparer.result();
}

/**
 * compareVersions one version at a time. Bounded whatever the files hold: each version is read once, in
 * order, and only the values of at most MAX_COMPARE_ROWS keys per section are kept from it, so a caller
 * may load each document just before `add` and drop it after: one whole document in memory at a time.
 */
export class Comparer {
  private readonly stems: string[] = [];
  private readonly meta: CellValue[][] = META.map(() => []);
  private readonly metrics = new KeyedSection();
  private readonly hyper = new KeyedSection();
  private readonly metricNames: string[] = [];

  /** Reads what the comparison shows of `v`; keeps no reference to it or its document. */
  add(v: LoadedVersion): void {
    this.stems.push(v.stem);
    META.forEach(([, , get], m) => {
      (this.meta[m] as CellValue[]).push(clipCell(get(v)));
    });
    this.metricNames.push(v.metric);
    this.metrics.add(v.metrics?.metrics ?? null, SCORE_KEYS);
    this.hyper.add(v.metrics?.hyperparameters ?? null, []);
  }

  result(): Comparison {
    const { stems, metrics, hyper } = this;
    const rows: CompareRow[] = [];
    metrics.keys.forEach((key, k) => {
      const values = metrics.valuesOf(k, stems.length);
      const numbers = values.map((x) => (typeof x === "number" && Number.isFinite(x) ? x : null));
      rows.push(row("metrics", key, values.map(cell), bestIndexes(numbers, LOWER_IS_BETTER.test(key)), clip(key, MAX_KEY_CHARS), values));
    });
    // Only the score is a "higher is better" row among the metadata, and only when all share one metric.
    const sameMetric = new Set(this.metricNames).size === 1;
    META.forEach(([key, label], m) => {
      const values = this.meta[m] as CellValue[];
      const best = key === "score" && sameMetric ? bestIndexes(values.map((x) => (typeof x === "number" ? x : null)), false) : [];
      if (key !== "trainedAt") rows.push(row("metadata", key, values, best, label));
      // Shown as every other page shows an instant ("2025-02-11 14:30 UTC"), compared as written (to the second).
      else rows.push({ ...row("metadata", key, values, best, label, values), display: values.map((x) => (typeof x === "string" ? fmtTime(x) : show(x))) });
    });
    hyper.keys.forEach((key, k) => {
      const values = hyper.valuesOf(k, stems.length);
      rows.push(row("hyperparameters", key, values.map(cell), [], clip(key, MAX_KEY_CHARS), values));
    });
    return { stems: [...stems], rows, notShown: { metrics: [...metrics.notShown], hyperparameters: [...hyper.notShown] } };
  }
}

/**
 * One keyed section (metrics or hyperparameters) across versions read one at a time. It keeps the first
 * MAX_COMPARE_ROWS keys in reading order (`first` keys ahead of each version's own) and, per version, its
 * values for those keys only. Keys join only while there is room; a version read while there was room
 * has all its keys kept, so it truly lacks any key that joins later: its cell stays empty by right.
 */
class KeyedSection {
  readonly keys: string[] = [];
  readonly notShown: number[] = [];
  private readonly index = new Map<string, number>();
  private readonly values: Map<number, JsonValue>[] = [];

  add(record: Record<string, JsonValue> | null, first: readonly string[]): void {
    const own = record ? Object.keys(record) : [];
    if (record) {
      for (const key of first) if (Object.hasOwn(record, key)) this.join(key);
      for (const key of own) if (!this.join(key)) break;
    }
    const kept = new Map<number, JsonValue>();
    if (record) {
      this.keys.forEach((key, k) => {
        if (Object.hasOwn(record, key)) kept.set(k, record[key] as JsonValue);
      });
    }
    this.values.push(kept);
    this.notShown.push(own.length - kept.size);
  }

  /** The values of key `k` for each of `n` versions; null where a version has none. */
  valuesOf(k: number, n: number): (JsonValue | null)[] {
    return Array.from({ length: n }, (_, i) => (this.values[i]?.has(k) ? (this.values[i]?.get(k) as JsonValue) : null));
  }

  /** Adds `key` if there is room; false when the section is full and `key` is not in it. */
  private join(key: string): boolean {
    if (this.index.has(key)) return true;
    if (this.keys.length >= MAX_COMPARE_ROWS) return false;
    this.index.set(key, this.keys.length);
    this.keys.push(key);
    return true;
  }
}

function row(
  section: CompareRow["section"],
  key: string,
  values: CellValue[],
  best: number[],
  label: string,
  raw?: (JsonValue | null)[],
): CompareRow {
  // Hyperparameters are shown as written: fixed decimals would turn C=0.00003 into "0.0000".
  const display = values.map((v) => (section === "hyperparameters" && v !== null ? String(v) : show(v)));
  // Numbers differ as shown; text that differs only past the cut still differs.
  const same = display.map((text, i) => {
    const v = raw?.[i];
    if (typeof v === "string") return `s${v}`;
    return typeof v === "object" && v !== null ? `j${valueText(v, { maxChars: 10_000 })}` : `d${text}`;
  });
  return { section, key, label, values, display, differs: new Set(same).size > 1, best };
}

function bestIndexes(numbers: (number | null)[], lowerIsBetter: boolean): number[] {
  const present = numbers.filter((n): n is number => n !== null);
  // A "best" among fewer than two values, or among equal values, tells nobody anything.
  if (present.length < 2 || new Set(present).size === 1) return [];
  const target = lowerIsBetter ? Math.min(...present) : Math.max(...present);
  return numbers.flatMap((n, i) => (n === target ? [i] : []));
}

/** A JSON value as a cell: nested JSON (lists, objects) as its compact text, long text cut; never a live object. */
function cell(v: JsonValue | null): CellValue {
  if (v === null || typeof v === "number" || typeof v === "boolean") return v;
  return valueText(v, { maxChars: MAX_CELL_CHARS });
}

function clipCell(v: CellValue): CellValue {
  return typeof v === "string" ? clip(v, MAX_CELL_CHARS) : v;
}

/** Fixed decimals for fractions, thousands separators for counts, "—" for missing. Pure. */
export function show(v: CellValue): string {
  if (v === null) return "—";
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString("en-US") : fmt(v);
  return String(v);
}
