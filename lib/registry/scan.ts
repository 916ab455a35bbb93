import { createHash } from "node:crypto";
import type { Dirent, Stats } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { RegistryError } from "./errors";
import { checkRegularFileSync, hashFileSync, identityOf, MAX_METRICS_BYTES, readSmallFileSync } from "./files";
import { type MetricsDoc, NO_SCORE, parseMetricsText, UNKNOWN_METRIC } from "./metrics";
import { ALIAS_STEM, METRICS_EXT, MODEL_EXT, parseStem } from "./names";

export const MODELS_DIR = "models";
export const METRICS_DIR = "metrics";
export const MODEL_ALIAS = `${MODELS_DIR}/${ALIAS_STEM}${MODEL_EXT}`;
export const METRICS_ALIAS = `${METRICS_DIR}/${ALIAS_STEM}${METRICS_EXT}`;
/** Temp files written next to an alias during a promotion; anything matching is ours to clean up. */
export const TEMP_PREFIX = `.${ALIAS_STEM}.`;

export interface Version {
  stem: string;
  modelType: string;
  /** ISO 8601 UTC, from the file name. */
  timestamp: string;
  modelFile: string;
  metricsFile: string | null;
  sha256: string;
  size: number;
  modifiedAt: string;
  metricsSha256: string | null;
  metrics: MetricsDoc | null;
  /** Why the metrics could not be used, when the file exists but is broken. */
  metricsError: string | null;
  /**
   * True when the score came from the persistent scan cache and the full document was not read; call
   * `loadDeferredMetrics` before using `metrics` (the CLI does, for the versions a command shows or plans).
   */
  metricsDeferred: boolean;
  score: number;
  metric: string;
  isProduction: boolean;
  isBest: boolean;
}

export type ProblemCode =
  | "orphan_metrics"
  | "bad_name"
  | "bad_timestamp"
  | "invalid_json"
  | "not_object"
  | "unreadable"
  | "symlink"
  | "not_regular_file"
  | "too_large"
  | "unexpected_file"
  | "temp_file";

export interface Problem {
  /** Path relative to the registry root, e.g. "metrics/x.json". */
  file: string;
  /** Stable code, e.g. "orphan_metrics". */
  reason: ProblemCode;
  /** What is wrong and what to do, for people. */
  message: string;
}

export type AliasState = "ok" | "missing" | "unknown" | "mismatched";

export interface Production {
  state: AliasState;
  /** The version whose model bytes the alias holds, or null. */
  stem: string | null;
  sha256: string | null;
  metricsSha256: string | null;
  /** The version whose metrics bytes the metrics alias holds, or null. */
  metricsStem: string | null;
  score: number | null;
  metric: string | null;
  /** When the alias file was last written (until the audit log says more). */
  since: string | null;
  explanation: string;
  action: string | null;
}

export interface Snapshot {
  root: string;
  scannedAt: string;
  versions: Version[];
  problems: Problem[];
  production: Production;
  best: string | null;
}

export class RegistryNotFoundError extends RegistryError {
  override readonly code = "registry_not_found";
  override readonly exitCode = 2;
}

/**
 * Reads the registry folders and returns every version, every problem, the production alias state and
 * the best version. Reads only; never opens a file outside `root/models` and `root/metrics`, never
 * follows a symlinked version, never reads a metrics file above MAX_METRICS_BYTES.
 */
export async function scanRegistry(root: string): Promise<Snapshot> {
  await assertRoot(root);
  const [modelEntries, metricsEntries] = await Promise.all([listDir(join(root, MODELS_DIR)), listDir(join(root, METRICS_DIR))]);
  const problems: Problem[] = [];
  const modelStems = new Map<string, { modelType: string; timestamp: string }>();

  for (const entry of modelEntries) {
    const name = entry.name;
    const file = `${MODELS_DIR}/${name}`;
    if (name === `${ALIAS_STEM}${MODEL_EXT}`) continue;
    const problem = classifyEntry(entry, file, MODEL_EXT, "model");
    if (problem) {
      problems.push(problem);
      continue;
    }
    const parsed = parseStem(name.slice(0, -MODEL_EXT.length));
    if (!parsed.ok) {
      problems.push({ file, reason: parsed.code, message: parsed.message });
      continue;
    }
    modelStems.set(parsed.stem, { modelType: parsed.modelType, timestamp: parsed.timestamp });
  }

  const metricsFor = new Map<string, string>();
  for (const entry of metricsEntries) {
    const name = entry.name;
    const file = `${METRICS_DIR}/${name}`;
    if (name === `${ALIAS_STEM}${METRICS_EXT}`) continue;
    const problem = classifyEntry(entry, file, METRICS_EXT, "metrics");
    if (problem) {
      problems.push(problem);
      continue;
    }
    const stem = name.slice(0, -METRICS_EXT.length);
    if (!modelStems.has(stem)) {
      const parsed = parseStem(stem);
      problems.push(
        parsed.ok
          ? {
              file,
              reason: "orphan_metrics",
              message: `Metrics with no model: ${MODELS_DIR}/${stem}${MODEL_EXT} does not exist (or is not a usable file), so this run is not a version. Training must write both files with matching names.`,
            }
          : { file, reason: parsed.code, message: parsed.message },
      );
      continue;
    }
    metricsFor.set(stem, file);
  }

  // Synchronous on purpose: tens of thousands of small stats and reads finish far sooner in one tight
  // loop than through the thread pool, and unchanged files cost one lstat each (see the caches below).
  const versions: Version[] = [];
  for (const [stem, parsed] of modelStems) {
    const v = readVersion(root, stem, parsed, metricsFor.get(stem) ?? null, problems);
    if (v) versions.push(v);
  }
  versions.sort((a, b) => (a.timestamp === b.timestamp ? a.stem.localeCompare(b.stem) : a.timestamp < b.timestamp ? -1 : 1));

  const production = await readProduction(root, versions);
  const best = pickBest(versions);
  for (const v of versions) {
    v.isProduction = production.stem === v.stem;
    v.isBest = best === v.stem;
  }
  problems.sort((a, b) => a.file.localeCompare(b.file));
  return { root, scannedAt: new Date().toISOString(), versions, problems, production, best };
}

/** Highest score among versions that have one; ties go to the newest timestamp. Pure. */
export function pickBest(versions: readonly Version[]): string | null {
  let best: Version | null = null;
  for (const v of versions) {
    if (v.metric === UNKNOWN_METRIC) continue;
    if (!best || v.score > best.score || (v.score === best.score && v.timestamp > best.timestamp)) best = v;
  }
  return best?.stem ?? null;
}

async function assertRoot(root: string): Promise<void> {
  let st: Stats;
  try {
    st = await stat(root);
  } catch {
    throw new RegistryNotFoundError(
      `No registry at ${root}: the folder does not exist. Pass --root DIR or set REGISTRY_ROOT to the folder holding models/ and metrics/.`,
    );
  }
  if (!st.isDirectory()) throw new RegistryNotFoundError(`${root} is not a folder.`);
}

async function listDir(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
}

function classifyEntry(entry: Dirent, file: string, ext: string, kind: "model" | "metrics"): Problem | null {
  const name = entry.name;
  if (name.startsWith(TEMP_PREFIX)) {
    return {
      file,
      reason: "temp_file",
      message: "Temporary file left by an interrupted promotion; the next promotion or start-up removes it.",
    };
  }
  if (!name.endsWith(ext)) {
    const lower = name.toLowerCase().endsWith(ext);
    return {
      file,
      reason: "unexpected_file",
      message: lower
        ? `Extension must be exactly "${ext}" (case-sensitive): rename the file to use it as a ${kind} file.`
        : `Not a ${kind} file (expected {model_type}_{YYYYMMDDTHHMMSSZ}${ext}); ignored.`,
    };
  }
  if (entry.isSymbolicLink()) {
    return { file, reason: "symlink", message: `The ${kind} file is a symbolic link: versions must be regular files, never links.` };
  }
  if (!entry.isFile()) {
    return { file, reason: "not_regular_file", message: `The ${kind} path is not a regular file; ignored.` };
  }
  return null;
}

function readVersion(
  root: string,
  stem: string,
  parsed: { modelType: string; timestamp: string },
  metricsFile: string | null,
  problems: Problem[],
): Version | null {
  const modelFile = `${MODELS_DIR}/${stem}${MODEL_EXT}`;
  const modelPath = `${root}/${modelFile}`;
  const check = checkRegularFileSync(modelPath);
  if (!check.ok) {
    if (check.code !== "missing") problems.push({ file: modelFile, reason: check.code, message: check.message });
    return null;
  }
  let sha256: string;
  try {
    sha256 = hashFileSync(modelPath, check.stats);
  } catch (e) {
    problems.push({ file: modelFile, reason: "unreadable", message: `Cannot read the model file (${errCode(e)}).` });
    return null;
  }
  const metrics = metricsFile ? readMetrics(root, metricsFile) : null;
  if (metrics?.problem) problems.push(metrics.problem);
  return {
    stem,
    modelType: parsed.modelType,
    timestamp: parsed.timestamp,
    modelFile,
    metricsFile,
    sha256,
    size: check.stats.size,
    modifiedAt: check.stats.mtime.toISOString(),
    metricsSha256: metrics?.sha256 ?? null,
    metrics: metrics?.doc ?? null,
    metricsError: metrics?.error ?? null,
    metricsDeferred: metrics?.summary !== undefined,
    score: metrics?.doc?.score ?? metrics?.summary?.score ?? NO_SCORE,
    metric: metrics?.doc?.metric ?? metrics?.summary?.metric ?? UNKNOWN_METRIC,
    isProduction: false,
    isBest: false,
  };
}

export interface MetricsRead {
  doc: MetricsDoc | null;
  sha256: string | null;
  error: string | null;
  problem: Problem | null;
  /** Set instead of `doc` when only the score is known (from the persistent scan cache). */
  summary?: { score: number; metric: string };
}

// Parsed metrics by stat identity: an unchanged file is never read twice in a process.
const metricsCache = new Map<string, MetricsRead>();

/** The parsed-metrics cache, for the persistent scan cache to load and save. */
export const metricsReadCache = {
  entries: () => metricsCache.entries(),
  set: (identity: string, read: MetricsRead) => void metricsCache.set(identity, read),
  size: () => metricsCache.size,
};

// Scores without documents, loaded from the persistent scan cache by CLI processes.
const summaryCache = new Map<string, MetricsRead>();

/** Loads and saves score summaries across processes (see scan-cache.ts). */
export const metricsSummaryCache = {
  set: (key: string, read: MetricsRead) => void summaryCache.set(key, read),
  entries: () => summaryCache.entries(),
};

/**
 * Reads the full metrics documents of the given versions when the scan only had their scores from the
 * persistent cache. Mutates those Version objects; re-validates each file by its stat identity.
 */
export function loadDeferredMetrics(root: string, versions: Iterable<Version | null | undefined>): void {
  for (const v of versions) {
    if (!v?.metricsDeferred || !v.metricsFile) continue;
    const path = join(root, v.metricsFile);
    const check = checkRegularFileSync(path);
    const read = readMetricsUncached(path, v.metricsFile);
    if (check.ok && read.sha256) metricsCache.set(`${v.metricsFile}|${identityOf(check.stats)}`, read);
    v.metrics = read.doc;
    v.metricsSha256 = read.sha256;
    v.metricsError = read.error;
    v.score = read.doc?.score ?? NO_SCORE;
    v.metric = read.doc?.metric ?? UNKNOWN_METRIC;
    v.metricsDeferred = false;
  }
}

function readMetrics(root: string, file: string): MetricsRead {
  const path = `${root}/${file}`;
  const check = checkRegularFileSync(path);
  const id = check.ok ? `${file}|${identityOf(check.stats)}` : null;
  const cached = id ? (metricsCache.get(id) ?? summaryCache.get(id)) : undefined;
  if (cached) return cached;
  const read = readMetricsUncached(path, file);
  if (id && read.sha256) metricsCache.set(id, read);
  return read;
}

function readMetricsUncached(path: string, file: string): MetricsRead {
  let bytes: Buffer;
  try {
    bytes = readSmallFileSync(path, MAX_METRICS_BYTES);
  } catch (e) {
    const code = errCode(e);
    const problem: Problem =
      code === "ETOOLARGE"
        ? { file, reason: "too_large", message: `Metrics file is larger than ${MAX_METRICS_BYTES / 1024 / 1024} MiB; not read.` }
        : code === "ELOOP"
          ? { file, reason: "symlink", message: "The metrics file is a symbolic link; not read." }
          : code === "ENOTREG"
            ? { file, reason: "not_regular_file", message: "The metrics path is not a regular file; not read." }
            : { file, reason: "unreadable", message: `Cannot read the metrics file (${code}).` };
    return { doc: null, sha256: null, error: problem.message, problem };
  }
  const sha256 = sha256Of(bytes);
  const parsed = parseMetricsText(bytes.toString("utf8"));
  if (!parsed.ok) {
    return {
      doc: null,
      sha256,
      error: parsed.message,
      problem: { file, reason: parsed.code, message: `${parsed.message} The version is listed without metrics.` },
    };
  }
  return { doc: parsed.doc, sha256, error: null, problem: null };
}

async function readProduction(root: string, versions: Version[]): Promise<Production> {
  const empty = { stem: null, sha256: null, metricsSha256: null, metricsStem: null, score: null, metric: null, since: null };
  const model = await readAlias(root, MODEL_ALIAS);
  const metrics = await readAlias(root, METRICS_ALIAS);
  if (!model.sha256) {
    return {
      ...empty,
      metricsSha256: metrics.sha256,
      state: "missing",
      explanation: model.error ?? `There is no ${MODEL_ALIAS}: nothing is in production.`,
      action: "Promote a version to put it in production.",
    };
  }
  const byModel = versions.filter((v) => v.sha256 === model.sha256);
  const metricsMatch = metrics.sha256 ? versions.filter((v) => v.metricsSha256 === metrics.sha256) : [];
  // Identical model bytes may be saved under several names; prefer the one whose metrics match too.
  const live = byModel.find((v) => metricsMatch.includes(v)) ?? byModel.at(-1) ?? null;
  const metricsStem = live && metricsMatch.includes(live) ? live.stem : (metricsMatch.at(-1)?.stem ?? null);
  const base = {
    sha256: model.sha256,
    metricsSha256: metrics.sha256,
    metricsStem,
    since: model.since,
  };
  if (!live) {
    return {
      ...base,
      stem: null,
      score: null,
      metric: null,
      state: "unknown",
      explanation: `${MODEL_ALIAS} matches no version in the registry (sha256 ${model.sha256.slice(0, 12)}…): it was written by hand or its version was deleted.`,
      action: "Promote or roll back to a known version to restore a traceable production.",
    };
  }
  const scored = { stem: live.stem, score: live.metric === UNKNOWN_METRIC ? null : live.score, metric: live.metric };
  if (!metrics.sha256 || metricsStem !== live.stem) {
    return {
      ...base,
      ...scored,
      state: "mismatched",
      explanation: !metrics.sha256
        ? `${MODEL_ALIAS} is ${live.stem} but ${METRICS_ALIAS} is missing${metrics.error ? ` (${metrics.error})` : ""}.`
        : `${MODEL_ALIAS} is ${live.stem} but ${METRICS_ALIAS} ${metricsStem ? `belongs to ${metricsStem}` : "matches no version's metrics"}: APIs would report the wrong metrics.`,
      action: `Promote ${live.stem} again (or roll back) to rewrite both alias files as one pair.`,
    };
  }
  return {
    ...base,
    ...scored,
    state: "ok",
    explanation: `Both alias files are byte copies of ${live.stem}.`,
    action: null,
  };
}

/** Hashes an alias file as the scan sees it (a symlink is followed only inside the registry). */
export async function readAlias(
  root: string,
  file: string,
): Promise<{ sha256: string | null; since: string | null; error: string | null }> {
  const path = join(root, file);
  const check = checkRegularFileSync(path);
  try {
    if (check.ok) return { sha256: hashFileSync(path, check.stats), since: check.stats.mtime.toISOString(), error: null };
    if (check.code === "symlink") {
      // A hand-made `ln -s` alias: follow it only to a regular file inside the registry's own folders.
      const target = await realpath(path);
      const rootReal = await realpath(root);
      const inside = [MODELS_DIR, METRICS_DIR].some((d) => target.startsWith(join(rootReal, d) + sep));
      const st = await stat(target);
      if (inside && st.isFile()) return { sha256: hashFileSync(target, st), since: st.mtime.toISOString(), error: null };
      return { sha256: null, since: null, error: `${file} is a symbolic link that does not point to a file inside the registry.` };
    }
  } catch (e) {
    return { sha256: null, since: null, error: `${file} cannot be read (${errCode(e)}).` };
  }
  return { sha256: null, since: null, error: check.code === "missing" ? null : `${file}: ${check.message}` };
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? "error";
}
