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
  const parsed = parseJson(text);
  if (parsed instanceof Error) {
    const detail = parsed instanceof RangeError ? "nested too deeply" : parsed.message;
    return { ok: false, code: "invalid_json", message: `Metrics file is not valid JSON (${detail}).` };
  }
  const { value } = parsed;
  if (!isObject(value)) {
    return {
      ok: false,
      code: "not_object",
      message: `Metrics file holds ${Array.isArray(value) ? "an array" : typeof value === "object" ? "null" : `a ${typeof value}`}, not a JSON object.`,
    };
  }
  boundDocument(value, parsed.marked);
  return { ok: true, doc: toDoc(value) };
}

/**
 * Only the score of a metrics file, for scans that need every version's score but not its document
 * (the CLI's plans): the same parse and the same rule as `parseMetricsText(text).doc.score`. Pure.
 */
export function parseMetricsScore(text: string): { ok: true; score: number; metric: string } | Extract<MetricsParse, { ok: false }> {
  const parsed = parseJson(text);
  if (parsed instanceof Error || !isObject(parsed.value)) return parseMetricsText(text) as Extract<MetricsParse, { ok: false }>;
  const { score, metric } = scoreOf(parsed.value);
  return { ok: true, score, metric };
}

/**
 * The file's JSON with Python's NaN/Infinity as marked strings (see replaceNonFinite): numbers only are
 * read for scores, so the marks never matter there; toDoc takes them off. No reviver: V8 runs one
 * recursively, so a file nested a few thousand levels deep would overflow the stack.
 */
function parseJson(text: string): { value: unknown; marked: boolean } | Error {
  try {
    const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    const clean = replaceNonFinite(body);
    return { value: JSON.parse(clean), marked: clean !== body };
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

/**
 * How deep a document's values may nest (the file's object is level 1). A container below this is kept
 * as the text of NESTED_TOO_DEEPLY, so every later use (JSON.stringify, structuredClone, a worker's message,
 * React) stays far from the stack's limit, whatever the file holds. Real metrics files nest 3 or 4 levels.
 */
export const MAX_NESTING = 32;
export const NESTED_TOO_DEEPLY = `… nested deeper than ${MAX_NESTING} levels: see the metrics file`;

/**
 * Bounds a parsed file in place: containers deeper than MAX_NESTING become NESTED_TOO_DEEPLY, and, when
 * `marked`, Python's NaN/Infinity marks become the strings "NaN", "Infinity", "-Infinity". An explicit
 * stack, never recursion: it visits each value above the bound once and nothing below it. Mutates `file`.
 */
function boundDocument(file: JsonObject, marked: boolean): void {
  const stack: [container: JsonObject | JsonValue[], depth: number][] = [[file, 1]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [container, depth] = top;
    const keys = Array.isArray(container) ? null : Object.keys(container);
    const n = keys ? keys.length : (container as JsonValue[]).length;
    for (let i = 0; i < n; i++) {
      const key = keys ? (keys[i] as string) : i;
      const v = (container as Record<string | number, JsonValue>)[key] as JsonValue;
      if (typeof v === "object" && v !== null) {
        if (depth >= MAX_NESTING) (container as Record<string | number, JsonValue>)[key] = NESTED_TOO_DEEPLY;
        else stack.push([v, depth + 1]);
      } else if (marked && typeof v === "string" && v.startsWith(NON_FINITE_MARK)) {
        (container as Record<string | number, JsonValue>)[key] = v.slice(NON_FINITE_MARK.length);
      }
    }
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
  const metrics: Record<string, JsonValue> = nested ? asRecord(nested) : Object.create(null);
  const extra: Record<string, JsonValue> = Object.create(null);
  const hp = isObject(file.hyperparameters) ? asRecord(file.hyperparameters) : null;
  for (const key of Object.keys(file)) {
    const v = file[key] as JsonValue;
    // Own keys only: "constructor" or "__proto__" in a file is data, not one of ours.
    const metaKey = Object.hasOwn(META_KEYS, key) ? META_KEYS[key] : undefined;
    if (metaKey) {
      if (NUMERIC_META.has(metaKey)) {
        (meta[metaKey] as number | null) = typeof v === "number" && Number.isFinite(v) ? v : null;
      } else if (typeof v === "string" || typeof v === "number") {
        (meta[metaKey] as string | null) = String(v);
      }
    } else if ((key === "metrics" && nested) || (key === "hyperparameters" && hp)) {
      // kept whole above
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
    hyperparameters: hp,
    meta,
    extra,
    score,
    metric,
  };
}

/**
 * A parsed object as a null-prototype record, so a "__proto__" or "constructor" key reads as data only
 * (JSON.parse already made every key an own property). In place, not a copy: a metrics object may hold
 * 150,000 keys, and copying them cost several times the parse. Mutates `o`, which the parse just made.
 */
function asRecord(o: JsonObject): Record<string, JsonValue> {
  return Object.setPrototypeOf(o, null) as Record<string, JsonValue>;
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
