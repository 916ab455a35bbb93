export const SCORE_KEYS = ["pr_auc", "average_precision", "roc_auc", "f1", "accuracy"] as const;
export const UNKNOWN_METRIC = "unknown";
export const NO_SCORE = -1;

/** A JSON value as the registry keeps it; Python's NaN/Infinity are kept as the strings "NaN", "Infinity", "-Infinity". */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface MetricsDoc {
  /** "nested" when the file has a "metrics" object, else "flat". */
  form: "nested" | "flat";
  /** The metric values shown and compared: the "metrics" object, or the flat file's metric-like keys. */
  metrics: Record<string, JsonValue>;
  hyperparameters: Record<string, JsonValue> | null;
  meta: {
    modelType: string | null;
    artifact: string | null;
    trainedAt: string | null;
    trainedBy: string | null;
    gitCommit: string | null;
    dataVersion: string | null;
    trainRows: number | null;
    testRows: number | null;
    churnRateTrain: number | null;
    churnRateTest: number | null;
  };
  /** Every other top-level key, so nothing the training job wrote is hidden. */
  extra: Record<string, JsonValue>;
  score: number;
  metric: string;
}

export type MetricsParse = { ok: true; doc: MetricsDoc } | { ok: false; code: "invalid_json" | "not_object"; message: string };

const META_KEYS: Record<string, keyof MetricsDoc["meta"]> = {
  model_type: "modelType",
  artifact: "artifact",
  trained_at: "trainedAt",
  trained_by: "trainedBy",
  git_commit: "gitCommit",
  data_version: "dataVersion",
  train_rows: "trainRows",
  test_rows: "testRows",
  churn_rate_train: "churnRateTrain",
  churn_rate_test: "churnRateTest",
};
const NUMERIC_META = new Set(["trainRows", "testRows", "churnRateTrain", "churnRateTest"]);
// Flat legacy files mix metrics with everything else at the top level; these names are metrics.
const FLAT_METRIC = /^(pr_auc|roc_auc|average_precision|f1|accuracy|precision|recall|log_loss|brier|auc|mae|mse|rmse|r2|lift|ks)(\b|@|_)/i;

/**
 * Parses a metrics file's text the way Python wrote it (bare NaN/Infinity allowed, BOM tolerated).
 * Pure. Never throws: a broken file comes back as `{ ok: false }` with a message for people.
 */
export function parseMetricsText(text: string): MetricsParse {
  const value = parseJson(text);
  if (value instanceof Error) {
    const e = value;
    const detail = e instanceof RangeError ? "nested too deeply" : e.message;
    return { ok: false, code: "invalid_json", message: `Metrics file is not valid JSON (${detail}).` };
  }
  if (!isObject(value)) {
    return {
      ok: false,
      code: "not_object",
      message: `Metrics file holds ${Array.isArray(value) ? "an array" : typeof value === "object" ? "null" : `a ${typeof value}`}, not a JSON object.`,
    };
  }
  return { ok: true, doc: toDoc(value) };
}

/**
 * Only the score of a metrics file, for scans that need every version's score but not its document
 * (the CLI's plans): the same parse and the same rule as `parseMetricsText(text).doc.score`. Pure.
 */
export function parseMetricsScore(text: string): { ok: true; score: number; metric: string } | Extract<MetricsParse, { ok: false }> {
  const value = parseJson(text);
  if (value instanceof Error || !isObject(value)) return parseMetricsText(text) as Extract<MetricsParse, { ok: false }>;
  const { score, metric } = scoreOf(value);
  return { ok: true, score, metric };
}

function parseJson(text: string): unknown {
  try {
    const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    const clean = replaceNonFinite(body);
    // The reviver costs a call per value: only files with NaN or Infinity need it.
    return clean === body
      ? JSON.parse(clean)
      : JSON.parse(clean, (_key, v) => (typeof v === "string" && v.startsWith(NON_FINITE_MARK) ? v.slice(NON_FINITE_MARK.length) : v));
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

/**
 * The version's score: the first of pr_auc, average_precision, roc_auc, f1, accuracy that is a finite
 * JSON number, from the "metrics" object when the file has one (no fall-back to the top level), else
 * from the top level. Pure.
 */
export function scoreOf(file: JsonObject): { score: number; metric: string } {
  const nested = file.metrics;
  const scope = isObject(nested) ? nested : file;
  for (const key of SCORE_KEYS) {
    const v = Object.hasOwn(scope, key) ? scope[key] : undefined;
    if (typeof v === "number" && Number.isFinite(v)) return { score: v, metric: key };
  }
  return { score: NO_SCORE, metric: UNKNOWN_METRIC };
}

/**
 * The few facts of a metrics file that lists and charts show for every version. A long-lived process
 * keeps these for 20,000 versions and reads a whole document again only when a page needs it.
 */
export interface MetricsHighlights {
  prAuc: number | null;
  rocAuc: number | null;
  precisionAt50: number | null;
  recallAt50: number | null;
  trainRows: number | null;
  testRows: number | null;
  dataVersion: string | null;
  gitCommit: string | null;
  trainedBy: string | null;
}

/** The highlights of a parsed document. Pure. */
export function highlightsOf(doc: MetricsDoc): MetricsHighlights {
  return {
    prAuc: metricNumber(doc, "pr_auc"),
    rocAuc: metricNumber(doc, "roc_auc"),
    precisionAt50: metricNumber(doc, "precision@50"),
    recallAt50: metricNumber(doc, "recall@50"),
    trainRows: doc.meta.trainRows,
    testRows: doc.meta.testRows,
    dataVersion: doc.meta.dataVersion,
    gitCommit: doc.meta.gitCommit,
    trainedBy: doc.meta.trainedBy,
  };
}

/** Reads one metric value as a finite number, or null. */
export function metricNumber(doc: MetricsDoc | null, key: string): number | null {
  const v = doc && Object.hasOwn(doc.metrics, key) ? doc.metrics[key] : undefined;
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function toDoc(file: JsonObject): MetricsDoc {
  const nested = isObject(file.metrics) ? file.metrics : null;
  const meta: MetricsDoc["meta"] = {
    modelType: null,
    artifact: null,
    trainedAt: null,
    trainedBy: null,
    gitCommit: null,
    dataVersion: null,
    trainRows: null,
    testRows: null,
    churnRateTrain: null,
    churnRateTest: null,
  };
  const metrics: Record<string, JsonValue> = Object.create(null);
  const extra: Record<string, JsonValue> = Object.create(null);
  const hp = isObject(file.hyperparameters) ? file.hyperparameters : null;
  for (const [key, v] of Object.entries(file)) {
    const metaKey = META_KEYS[key];
    if (metaKey) {
      if (NUMERIC_META.has(metaKey)) {
        (meta[metaKey] as number | null) = typeof v === "number" && Number.isFinite(v) ? v : null;
      } else if (typeof v === "string" || typeof v === "number") {
        (meta[metaKey] as string | null) = String(v);
      }
    } else if (key === "metrics" && nested) {
      Object.assign(metrics, copyObject(nested));
    } else if (key === "hyperparameters" && hp) {
      // kept below
    } else if (!nested && FLAT_METRIC.test(key)) {
      metrics[key] = v;
    } else {
      extra[key] = v;
    }
  }
  const { score, metric } = scoreOf(file);
  return {
    form: nested ? "nested" : "flat",
    metrics,
    hyperparameters: hp ? copyObject(hp) : null,
    meta,
    extra,
    score,
    metric,
  };
}

/** Copies an object's own entries into a null-prototype object, so a "__proto__" key stays data. */
function copyObject(o: JsonObject): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = Object.create(null);
  for (const [k, v] of Object.entries(o)) out[k] = v;
  return out;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const NON_FINITE_MARK = "\u0000nonfinite:";

/** Rewrites Python's bare NaN, Infinity and -Infinity tokens (outside strings) into marked strings. */
function replaceNonFinite(text: string): string {
  if (!/NaN|Infinity/.test(text)) return text;
  let out = "";
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === "\\") {
        out += text[i + 1] ?? "";
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i++;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      i++;
      continue;
    }
    const token = text.startsWith("-Infinity", i)
      ? "-Infinity"
      : text.startsWith("Infinity", i)
        ? "Infinity"
        : text.startsWith("NaN", i)
          ? "NaN"
          : null;
    if (token) {
      out += JSON.stringify(NON_FINITE_MARK + token);
      i += token.length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}
