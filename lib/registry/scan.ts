// The scan: list the two folders, get each listed version's facts from a FactSource, rank, find production.
// The plain source (plain-source.ts) just reads the files; the fast one (fast/source.ts), the default,
// remembers what it read and is proven to give the same snapshot (fast/source.test.ts).
import { readAlias } from "./alias";
import { SourceChangedError } from "./errors";
import { fastSource } from "./fast/source";
import { assertRoot, METRICS_ALIAS, MODEL_ALIAS } from "./listing";
import { NO_SCORE, UNKNOWN_METRIC } from "./metrics";
import { factsOf } from "./metrics-file";
import { isoTimestamp, metricsFileOf, modelFileOf, searchByTimestamp } from "./names";
import { type Candidates, identifyProduction, type Production } from "./production";
import { bestIndex, type Ranked } from "./rank";
import type { FactSource, HashedVersion, Listing, LoadedVersion, MetricsTable, ModelFacts, ModelRead, Problem, Version } from "./types";

export { aliasObstacle, type AliasRead, readAlias } from "./alias";
export { folderStamps, METRICS_ALIAS, MODEL_ALIAS, RegistryNotFoundError, TEMP_PREFIX } from "./listing";
export { METRICS_DIR, MODELS_DIR } from "./names";
export { plainSource } from "./plain-source";
export type { AliasState, Production } from "./production";
export type {
  FactSource,
  FileStamp,
  HashedVersion,
  ListedVersion,
  Listing,
  LoadedVersion,
  MetricsDetail,
  MetricsFacts,
  MetricsRead,
  ModelFacts,
  Problem,
  ProblemCode,
  Version,
} from "./types";

export interface Snapshot<V extends Version = Version> {
  root: string;
  scannedAt: string;
  versions: V[];
  problems: Problem[];
  production: Production;
  best: string | null;
}

/** What a plan reads of a registry: production, the best version, and any version by name. */
export interface RegistryView {
  root: string;
  production: Production;
  best: string | null;
  /** The version named `stem`, or undefined when there is none. */
  version(stem: string): Version | undefined;
}

export interface ScanOptions {
  /** How much of each metrics file a version keeps: "highlights" (the default, what lists show) or "scores". */
  metrics?: "highlights" | "scores";
  /**
   * Also read every version's model file (sha256, size, mtime). A version whose model file is unusable is
   * then a problem, not a version. Without it, model files are read only to find production.
   */
  models?: boolean;
  /** Where the facts come from (default: the fast source). */
  source?: FactSource;
}

/**
 * Reads the registry folders and returns every version, every problem, the production alias state and
 * the best version. Reads only; never opens a file outside `root/models` and `root/metrics`, never
 * follows a symlinked version, never reads a metrics file above MAX_METRICS_BYTES.
 */
export async function scanRegistry(root: string, options: ScanOptions & { models: true }): Promise<Snapshot<HashedVersion>>;
export async function scanRegistry(root: string, options?: ScanOptions): Promise<Snapshot>;
export async function scanRegistry(root: string, options: ScanOptions = {}): Promise<Snapshot> {
  const scan = await scanCore(root, options);
  const versions: Version[] = [];
  for (let i = 0; i < scan.listing.versions.length; i++) if (scan.kept(i)) versions.push(scan.build(i));
  const problems = [...scan.problems];
  for (let i = 0; i < scan.listing.versions.length; i++) {
    const problem = scan.kept(i) ? scan.table.facts(i)?.problem : null;
    if (problem) problems.push(problem);
  }
  problems.sort((a, b) => a.file.localeCompare(b.file));
  return { root, scannedAt: new Date().toISOString(), versions, problems, production: scan.production, best: scan.best };
}

/**
 * What a plan needs of the registry: every score, production, and the versions it names, built when asked
 * (a plan of 20,000 versions builds two or three). Model files are read only to find production. Reads only.
 */
export async function scanForPlan(root: string, source: FactSource = fastSource): Promise<RegistryView> {
  const scan = await scanCore(root, { metrics: "scores", source });
  const built = new Map<string, Version>();
  const listed = scan.listing.versions;
  const version = (stem: string) => {
    const i = searchByTimestamp(listed.length, (k) => listed[k]![0], stem);
    if (i < 0) return undefined;
    if (!built.has(stem)) built.set(stem, scan.build(i));
    return built.get(stem);
  };
  return { root, production: scan.production, best: scan.best, version };
}

/** The scan itself: list, facts, rank, production. */
async function scanCore(root: string, options: ScanOptions) {
  await assertRoot(root);
  const source = options.source ?? fastSource;
  const listing = await source.list(root);
  const table = await source.metrics(root, listing, options.metrics ?? "highlights");
  const listed = listing.versions;
  const problems = [...listing.problems];
  const models: ModelRead[] | null = options.models ? listed.map(([stem], i) => source.model(root, stem, i)) : null;
  for (const m of models ?? []) if ("problem" in m && m.problem) problems.push(m.problem);
  const kept = (i: number) => !models || !("problem" in models[i]!);
  const ranked = (i: number): Ranked => (kept(i) ? { score: table.score(i), metric: table.metric(i), timestamp: listed[i]![2] } : UNRANKED);
  const top = bestIndex(listed.length, ranked);
  const best = top < 0 ? null : listed[top]![0];
  const candidates = candidatesOf(root, listing, table, source, models);
  const [model, metrics] = await Promise.all([
    readAlias(root, MODEL_ALIAS, source.hashAlias),
    readAlias(root, METRICS_ALIAS, source.hashAlias),
  ]);
  for (const alias of [model, metrics]) if (alias.problem) problems.push(alias.problem);
  const production = identifyProduction(candidates, model, metrics);
  const build = (i: number): Version => {
    const stem = listed[i]![0];
    const flags = { isProduction: production.stem === stem, isBest: best === stem };
    return models ? versionOf(listing, i, table, flags, models[i] as ModelFacts) : versionOf(listing, i, table, flags);
  };
  return { listing, table, problems, production, best, kept, build };
}

const UNRANKED: Ranked = { score: Number.NaN, metric: "unknown", timestamp: "" };

/** The listed versions as production candidates; model files read on demand when the scan did not read them all. */
function candidatesOf(root: string, listing: Listing, table: MetricsTable, source: FactSource, models: ModelRead[] | null): Candidates {
  const listed = listing.versions;
  const loaded = new Map<number, ModelRead>(models ? models.map((m, i) => [i, m]) : []);
  const shaOf = (i: number) => {
    const read = loaded.get(i) ?? source.model(root, listed[i]![0], i, true);
    loaded.set(i, read);
    // A model file that cannot be read here simply matches nothing.
    return "problem" in read ? null : read.sha256;
  };
  const all = listed.map((_, i) => i);
  return {
    stem: (i) => listed[i]![0],
    score: (i) => table.score(i),
    metric: (i) => table.metric(i),
    withMetricsSha: (sha) => all.filter((i) => (!models || !("problem" in models[i]!)) && table.sha256(i) === sha),
    withModelSha: (sha, first) => {
      const matching = first.filter((i) => shaOf(i) === sha);
      return matching.length > 0 && !models ? matching : all.filter((i) => shaOf(i) === sha);
    },
  };
}

/** Listed version i as its names and metrics facts describe it (with its model file's, when read). A new object. */
function versionOf(
  listing: Listing,
  i: number,
  table: MetricsTable,
  flags: Pick<Version, "isProduction" | "isBest">,
  model?: ModelFacts,
): Version {
  const [stem, modelType, timestamp, hasMetrics] = listing.versions[i]!;
  const facts = table.facts(i);
  const iso = isoTimestamp(timestamp);
  const modelFile = modelFileOf(stem);
  const metricsFile = hasMetrics ? metricsFileOf(stem) : null;
  const sha256 = facts?.sha256 ?? null;
  const highlights = facts?.highlights ?? null;
  const error = facts?.error ?? null;
  const score = facts?.score ?? NO_SCORE;
  const metric = facts?.metric ?? UNKNOWN_METRIC;
  const { isProduction, isBest } = flags;
  // One literal per kind, every field in it: fields added later would make V8 migrate every object built before.
  if (!model) {
    return {
      stem,
      modelType,
      timestamp: iso,
      modelFile,
      metricsFile,
      metricsSha256: sha256,
      highlights,
      metricsError: error,
      score,
      metric,
      isProduction,
      isBest,
    };
  }
  const { sha256: modelSha256, size, modifiedAt } = model;
  const hashed: HashedVersion = {
    stem,
    modelType,
    timestamp: iso,
    modelFile,
    metricsFile,
    metricsSha256: sha256,
    highlights,
    metricsError: error,
    score,
    metric,
    isProduction,
    isBest,
    sha256: modelSha256,
    size,
    modifiedAt,
  };
  return hashed;
}

/** A snapshot read as a RegistryView. */
export function viewOf(snapshot: Snapshot): RegistryView {
  let byStem: Map<string, Version> | undefined;
  return {
    root: snapshot.root,
    production: snapshot.production,
    best: snapshot.best,
    version: (stem) => {
      byStem ??= new Map(snapshot.versions.map((v) => [v.stem, v]));
      return byStem.get(stem);
    },
  };
}

/**
 * A version's model file facts, read now (remembered by stat stamp): a new object, `v` is not changed.
 * Throws SourceChangedError when the model file vanished or became unusable since the scan.
 */
export function loadModel(root: string, v: Version, source: FactSource = fastSource): HashedVersion {
  const read = source.model(root, v.stem, -1, true);
  if ("problem" in read) {
    throw new SourceChangedError(`${v.modelFile} ${read.problem ? `is unusable: ${read.problem.message}` : "no longer exists"}.`);
  }
  return { ...v, sha256: read.sha256, size: read.size, modifiedAt: read.modifiedAt };
}

/**
 * A version with everything read: its model file's facts and its whole metrics document (score and
 * highlights as that read says). A new object; `v` is not changed. Throws like loadModel.
 */
export function loadVersion(root: string, v: Version, source: FactSource = fastSource): LoadedVersion {
  const withModel = loadModel(root, v, source);
  if (!v.metricsFile) return { ...withModel, metrics: null };
  const read = source.document(root, v.stem, -1);
  const facts = factsOf(read);
  return {
    ...withModel,
    metricsSha256: facts.sha256,
    metrics: read.doc,
    highlights: facts.highlights,
    metricsError: facts.error,
    score: facts.score,
    metric: facts.metric,
  };
}

/** Freezes a snapshot and everything in it: a cached snapshot is shared by every request and never changed. */
export function freezeSnapshot<S extends Snapshot>(snapshot: S): Readonly<S> {
  for (const v of snapshot.versions) {
    if (v.highlights) Object.freeze(v.highlights);
    Object.freeze(v);
  }
  for (const p of snapshot.problems) Object.freeze(p);
  Object.freeze(snapshot.versions);
  Object.freeze(snapshot.problems);
  Object.freeze(snapshot.production);
  return Object.freeze(snapshot);
}
