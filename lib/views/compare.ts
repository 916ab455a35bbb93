import { fmt, type JsonValue, metricNumber, UNKNOWN_METRIC, type Version } from "@/lib/registry";

export type CellValue = string | number | boolean | null;

export interface CompareRow {
  section: "metrics" | "metadata" | "hyperparameters";
  key: string;
  label: string;
  values: CellValue[];
  /** Display text per value, already formatted with fixed decimals. */
  display: string[];
  /** True when not every version has the same value. */
  differs: boolean;
  /** Indexes of the versions holding the best value (metrics only; empty when not comparable). */
  best: number[];
}

export interface Comparison {
  stems: string[];
  rows: CompareRow[];
}

// Metrics where a smaller number is the better model.
const LOWER_IS_BETTER = /(loss|brier|error|^mae|^mse|^rmse|_mae|_mse|_rmse)/i;

/**
 * Lines up metrics, metadata and hyperparameters of several versions side by side, flags the rows whose
 * values differ and marks the best value of each metric row. Pure.
 */
export function compareVersions(versions: readonly Version[]): Comparison {
  const rows: CompareRow[] = [];
  const metricKeys = unionKeys(versions.map((v) => v.metrics?.metrics ?? null));
  for (const key of metricKeys) {
    const values = versions.map((v) => plain(v.metrics?.metrics[key]));
    const numbers = versions.map((v) => metricNumber(v.metrics, key));
    rows.push(row("metrics", key, key, values, bestIndexes(numbers, LOWER_IS_BETTER.test(key))));
  }
  const meta: [string, string, (v: Version) => CellValue][] = [
    ["score", "Score", (v) => (v.metric === UNKNOWN_METRIC ? null : v.score)],
    ["metric", "Score metric", (v) => v.metric],
    ["modelType", "Model type", (v) => v.metrics?.meta.modelType ?? v.modelType],
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
  for (const [key, label, get] of meta) {
    const values = versions.map(get);
    // Only the score is a "higher is better" row among the metadata, and only when all share one metric.
    const sameMetric = new Set(versions.map((v) => v.metric)).size === 1;
    const best =
      key === "score" && sameMetric
        ? bestIndexes(
            values.map((x) => (typeof x === "number" ? x : null)),
            false,
          )
        : [];
    rows.push(row("metadata", key, label, values, best));
  }
  for (const key of unionKeys(versions.map((v) => v.metrics?.hyperparameters ?? null))) {
    rows.push(
      row(
        "hyperparameters",
        key,
        key,
        versions.map((v) => plain(v.metrics?.hyperparameters?.[key])),
        [],
      ),
    );
  }
  return { stems: versions.map((v) => v.stem), rows };
}

function row(section: CompareRow["section"], key: string, label: string, values: CellValue[], best: number[]): CompareRow {
  // Hyperparameters are shown as written: fixed decimals would turn C=0.00003 into "0.0000".
  const display = values.map((v) => (section === "hyperparameters" && v !== null ? String(v) : show(v)));
  return { section, key, label, values, display, differs: new Set(display).size > 1, best };
}

function bestIndexes(numbers: (number | null)[], lowerIsBetter: boolean): number[] {
  const present = numbers.filter((n): n is number => n !== null);
  // A "best" among fewer than two values, or among equal values, tells nobody anything.
  if (present.length < 2 || new Set(present).size === 1) return [];
  const target = lowerIsBetter ? Math.min(...present) : Math.max(...present);
  return numbers.flatMap((n, i) => (n === target ? [i] : []));
}

function unionKeys(objects: (Record<string, JsonValue> | null)[]): string[] {
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const o of objects) {
    for (const k of Object.keys(o ?? {})) {
      if (!seen.has(k)) {
        seen.add(k);
        keys.push(k);
      }
    }
  }
  return keys;
}

/** Nested JSON (lists, objects) is shown as its JSON text: comparable and never a live object. */
function plain(v: JsonValue | undefined): CellValue {
  if (v === undefined) return null;
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  return JSON.stringify(v);
}

/** Fixed decimals for fractions, thousands separators for counts, "—" for missing. Pure. */
export function show(v: CellValue): string {
  if (v === null) return "—";
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString("en-US") : fmt(v);
  return String(v);
}
