import type { Dirent, Stats } from "node:fs";
import { lstatSync, statSync } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { askSpareWorker, hasSpareWorker } from "@/lib/inspect/run-isolated";
import { type MetricsFileRead, type PackedReads, packedFacts, readMetricsFile, unpackRead } from "./shared-reads";
import { RegistryError, SourceChangedError } from "./errors";
import {
  checkRegularFileSync,
  hashCache,
  hashFileSync,
  identityOf,
  kindOf,
  lstatNames,
  STAT_ROW,
  StatKind,
  settledAt,
  stampAt,
} from "./files";
import { FILE_CACHE_ENTRIES, setBounded } from "./bounded";
import { ScanMemo } from "./memo";
import type { FileStamp, ListedVersion, MetricsDetail, MetricsRead, Problem, ProblemCode } from "./types";

export type { FileStamp, ListedVersion, MetricsDetail, MetricsRead, Problem, ProblemCode } from "./types";
import { highlightsOf, type MetricsDoc, type MetricsHighlights, NO_SCORE, UNKNOWN_METRIC } from "./metrics";
import {
  ALIAS_STEM,
  checkStem,
  isoTimestamp,
  METRICS_DIR,
  METRICS_EXT,
  MODEL_EXT,
  MODELS_DIR,
  metricsFileOf,
  searchByTimestamp,
} from "./names";

export { METRICS_DIR, MODELS_DIR };
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
  /** The model file's sha256, size and mtime; empty until loaded when `modelDeferred` (see ScanOptions). */
  sha256: string;
  size: number;
  modifiedAt: string;
  /** True when a deferred scan listed the model file without reading it; call `loadDeferredModels` first. */
  modelDeferred: boolean;
  metricsSha256: string | null;
  metrics: MetricsDoc | null;
  /** What lists and charts show of the metrics; null without metrics, or in a scores-only scan. */
  highlights: MetricsHighlights | null;
  /** Why the metrics could not be used, when the file exists but is broken. */
  metricsError: string | null;
  /**
   * True when only the score is known (from the persistent scan cache, or a deferred scan); call
   * `loadDeferredMetrics` before using `metrics` (plans do, for the candidate and production).
   */
  metricsDeferred: boolean;
  score: number;
  metric: string;
  isProduction: boolean;
  isBest: boolean;
}



/**
 * "blocked": an alias path holds a folder, pipe, socket or device, which no rename can replace and nothing
 * of ours removes: every promotion and rollback is refused until a person moves it away.
 */
export type AliasState = "ok" | "missing" | "unknown" | "mismatched" | "blocked";

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

/** What a plan reads of a registry: production, the best version, and any version by name. */
export interface RegistryView {
  root: string;
  production: Production;
  best: string | null;
  /** The version named `stem`, or undefined when there is none. */
  version(stem: string): Version | undefined;
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

export class RegistryNotFoundError extends RegistryError {
  override readonly code = "registry_not_found";
  override readonly exitCode = 2;
}

export interface ScanOptions {
  /**
   * "deferred": model files are listed but read (lstat, sha256) only to find production; a caller loads
   * the rest for the versions it needs with `loadDeferredModels`. A plan needs every version's score but
   * only the candidate's and production's files, so at 20,000 versions this skips 20,000 file reads.
   */
  models?: "all" | "deferred";
  /**
   * How much of each metrics file a version keeps: "documents" (the default) the parsed document;
   * "highlights" the score and MetricsHighlights (what a long-lived server keeps for every version);
   * "scores" the score only (what a plan needs). Short of documents, `metricsDeferred` is true and
   * `loadDeferredMetrics` reads the document of a version that needs it.
   */
  metrics?: MetricsDetail;
}


/**
 * Reads the registry folders and returns every version, every problem, the production alias state and
 * the best version. Reads only; never opens a file outside `root/models` and `root/metrics`, never
 * follows a symlinked version, never reads a metrics file above MAX_METRICS_BYTES.
 */
export async function scanRegistry(root: string, options: ScanOptions = {}): Promise<Snapshot> {
  const scan = await scanCore(root, options, false);
  return {
    root,
    scannedAt: new Date().toISOString(),
    versions: scan.versions,
    problems: scan.problems,
    production: scan.production,
    best: scan.best,
  };
}

/**
 * What a plan needs of the registry, the way a plan scans it (every score, only the candidate's and
 * production's model files; see ScanOptions), without building a Version for every listed one: a
 * version whose metrics file is exactly the one the scan memo saw stays a row of the memo until the plan
 * asks for it by name. At 20,000 versions that is most of a repeated CLI run's memory and time. Reads only.
 */
export async function scanForPlan(root: string): Promise<RegistryView> {
  const scan = await scanCore(root, { models: "deferred", metrics: "scores" }, true);
  return { root, production: scan.production, best: scan.best, version: scan.version };
}

interface Scan {
  /** Every version, or (lean) the ones built so far. */
  versions: Version[];
  problems: Problem[];
  production: Production;
  best: string | null;
  version(stem: string): Version | undefined;
}

async function scanCore(root: string, options: ScanOptions, lean: boolean): Promise<Scan> {
  await assertRoot(root);
  const listing = await listRegistry(root);
  const problems = [...listing.problems];
  const deferModels = options.models === "deferred";
  const memo = memos.get(root);
  const prior = memo ? (memo.latest ?? memo.prior) : null;
  const next = memo
    ? ScanMemo.from(
        prior,
        listing.dirs,
        listing.versions.map((v) => v[0]),
      )
    : null;
  // Changed: something to save (an earlier scan in this process may have learned it already).
  if (next && prior && prior === memo?.latest && prior.changed) next.changed = true;
  // With nothing cached yet (a first scan) an lstat before each read could only miss: read straight away.
  const warm = prior !== null || metricsCache.size > 0 || summaryCache.size > 0;
  // Synchronous on purpose: tens of thousands of small stats and reads finish far sooner in one tight
  // loop than through the thread pool, and unchanged files cost one lstat each (see the caches below).
  // The listing is already in timestamp order, so the versions are too.
  const versions: Version[] = [];
  const detail = options.metrics ?? "documents";
  const listed = listing.versions;
  // A warm scan checks every metrics file's stamp first, in one tight loop (see lstatNames).
  const stamps = warm
    ? lstatNames(
        join(root, METRICS_DIR),
        listed.map((v) => (v[3] ? v[0] + METRICS_EXT : "")),
      )
    : null;
  // Lean (a CLI plan: scores only, a memo to keep them in): per listed version, 1 while it is only a row
  // of `next` (at the same position), unbuilt; its metrics file is then exactly the one the row describes.
  const held = lean && deferModels && detail === "scores" && next ? new Uint8Array(listed.length) : null;
  const ctx: ReadContext = { deferModels, detail, stamps, prior, j: -1, next, i: 0, prefetch: null, rows: held !== null };
  const built: (Version | undefined)[] = held ? new Array(listed.length) : [];
  // Reads versions from..to-1 in order; with `claims` (see shareWork), only while it can claim each one
  // first. Returns where it stopped.
  const read = (from: number, to: number, claims?: Uint8Array): number => {
    for (let i = from; i < to; i++) {
      if (claims && Atomics.compareExchange(claims, i, 0, 1) !== 0) return i;
      ctx.i = i;
      ctx.j = prior ? prior.indexOf(listed[i]![0], i) : -1;
      if (held && isHeld(ctx)) {
        held[i] = 1;
        continue;
      }
      // A lean scan keeps a sound file the worker read as the memo row it becomes, built from the packing.
      const facts = held && ctx.prefetch && listed[i]![3] ? packedFacts(ctx.prefetch, i) : null;
      if (facts) {
        (next as ScanMemo).setMetricsAt(i, ctx.prefetch!.stamps, i * STAT_ROW + 1, facts);
        held![i] = 1;
        continue;
      }
      const v = readVersion(root, listed[i]!, problems, ctx);
      if (v === ROW) {
        held![i] = 1;
        continue;
      }
      if (v) versions.push(v);
      if (v && held) built[i] = v;
    }
    return to;
  };
  const shared = shareWork(root, listed, ctx);
  const met = read(0, listed.length, shared?.claims);
  if (shared) {
    // The worker read the rest (unless it failed: then they are read here, as usual).
    ctx.prefetch = await shared.reads;
    read(met, listed.length);
    ctx.prefetch = null;
  }
  if (memo && next) memo.latest = next;

  // Once production and the best are known, every version built is flagged as it is built.
  let flags: { production: string | null; best: string | null } | null = null;
  const flag = (v: Version) => {
    if (!flags) return;
    v.isProduction = flags.production === v.stem;
    v.isBest = flags.best === v.stem;
  };
  // A held version, built when first needed (from its memo row: no file is read).
  const build = (i: number): Version => {
    let v = built[i];
    if (!v) {
      const stem = listed[i]![0];
      v = memoVersion(listed[i]!, [MODELS_DIR, "/", stem, MODEL_EXT].join(""), DEFERRED_MODEL, next as ScanMemo, i);
      built[i] = v;
      versions.push(v);
      flag(v);
    }
    return v;
  };
  // In listing order, as a full scan's versions are (readProduction prefers the newest of several matches).
  const pool: VersionPool = held
    ? {
        withMetricsSha: (sha) => {
          const inMemo = new Set((next as ScanMemo).withMetricsSha256(sha));
          const out: Version[] = [];
          for (let i = 0; i < listed.length; i++) {
            if (held[i] ? inMemo.has(i) : built[i]?.metricsSha256 === sha) out.push(build(i));
          }
          return out;
        },
        all: () => listed.flatMap((_, i) => (held[i] ? [build(i)] : (built[i] ?? []))),
        loaded: () => built.filter((v) => v !== undefined),
      }
    : { withMetricsSha: (sha) => versions.filter((v) => v.metricsSha256 === sha), all: () => versions, loaded: () => versions };
  const { production, problems: aliasProblems } = await readProduction(root, pool, deferModels);
  problems.push(...aliasProblems);
  const best = held ? pickBestHeld(listed, built, held, next as ScanMemo) : pickBest(versions);
  flags = { production: production.stem, best };
  for (const v of versions) flag(v);
  problems.sort((a, b) => a.file.localeCompare(b.file));
  const version = (stem: string): Version | undefined => {
    if (!held) return versions.find((v) => v.stem === stem);
    const i = searchByTimestamp(listed.length, (k) => listed[k]![0], stem);
    return i < 0 ? undefined : held[i] ? build(i) : built[i];
  };
  return { versions, problems, production, best, version };
}

/** True when a lean scan may leave this version unbuilt: its metrics file is exactly the one the memo saw. */
function isHeld(ctx: ReadContext): boolean {
  const { stamps, prior, i, j } = ctx;
  if (!stamps || !prior || j < 0 || stamps[i * STAT_ROW] !== StatKind.file) return false;
  return prior.metricsHoldAt(j, stamps, i * STAT_ROW + 1) && prior.problem(j) === null;
}

/** The versions readProduction may look at. */
interface VersionPool {
  /** Every version whose metrics file has this sha256. */
  withMetricsSha(sha: string): Version[];
  /** Every version (a lean scan builds them all for this: only when production matches no metrics). */
  all(): Version[];
  /** The versions built so far (a model file can only match once its version is built and loaded). */
  loaded(): Version[];
}

/** pickBest over a lean scan: built versions as they are, held ones by their memo row. */
function pickBestHeld(listed: ListedVersion[], built: (Version | undefined)[], held: Uint8Array, memo: ScanMemo): string | null {
  let best = -1;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < listed.length; i++) {
    const v = built[i];
    const metric = held[i] ? memo.metric(i) : v?.metric;
    if (metric === undefined || metric === UNKNOWN_METRIC) continue;
    const score = held[i] ? memo.score(i) : (v as Version).score;
    // The same rule as pickBest: the higher score, ties to the newer timestamp (listing order).
    if (best < 0 || score > bestScore || (score === bestScore && listed[i]![2] > listed[best]![2])) {
      best = i;
      bestScore = score;
    }
  }
  return best < 0 ? null : listed[best]![0];
}

// CLI processes keep what their scans saw between runs (scan-cache.ts): by root, the memo a previous run
// saved and the one this process's latest scan filled. The server keeps its caches in memory instead.
const memos = new Map<string, { prior: ScanMemo | null; latest: ScanMemo | null }>();

/** Memos of scans by root, for the persistent scan cache (see ScanMemo). */
export const scanMemos = {
  /** Records what scans of `root` see from now on, starting from what a previous run saved. */
  begin: (root: string, prior: ScanMemo | null) => void memos.set(root, { prior, latest: null }),
  /** The memo of the latest scan of `root` in this process, if any. */
  latest: (root: string): ScanMemo | null => memos.get(root)?.latest ?? null,
};

/** Scans at least this large share their metrics file work with a spare worker thread, if one runs. */
const SHARE_FROM = 2000;

/** A cold scan's metrics files shared with the spare worker: one claim flag per listed version. */
interface Shared {
  claims: Uint8Array;
  reads: Promise<PackedReads | null>;
}

/**
 * Shares the metrics files of a large listing with the spare worker (the CLI starts one at launch; see
 * startSpareWorker) when this scan has to read them (nothing remembered yet): this thread reads from the
 * first version on and the worker from the last one back, each claiming a version before reading it, until
 * they meet (see readSharedMetricsFiles). Neither waits on a share decided in advance: the one that runs faster
 * reads more. Null when there is nobody to share with or little to read. (Sharing the lstats of a warm
 * scan was measured too: no faster, so a warm scan stays on one thread.)
 */
function shareWork(root: string, listed: ListedVersion[], ctx: ReadContext): Shared | null {
  if (listed.length < SHARE_FROM || ctx.stamps || !hasSpareWorker()) return null;
  const claims = new Uint8Array(new SharedArrayBuffer(listed.length));
  // One string, not 20,000: posting it is a copy, not a serialisation per name.
  const stems = listed.map(([stem, , , hasMetrics]) => (hasMetrics ? stem : "")).join("\0");
  const request = { kind: "registry-read-metrics", root, stems, detail: ctx.detail, claims: claims.buffer };
  return { claims, reads: askSpareWorker<PackedReads>(request) };
}

/** Where one version sits in the previous memo (j) and the one being filled (i), and how to read it. */
interface ReadContext {
  /** Reads a worker already did (see shareWork), by listing index, if any. */
  prefetch: PackedReads | null;
  /** Lean (see scanForPlan): a version whose facts are all in a row of `next` stays that row (readVersion returns ROW). */
  rows?: boolean;
  /** Set by readMetrics: the read just went into `next`. */
  recorded?: boolean;
  deferModels: boolean;
  detail: MetricsDetail;
  /** Also teach the process-wide hash cache a memoised sha256 (for a promotion's copy that follows). */
  seedHashes?: boolean;
  /** lstatNames rows of the listing's metrics files, taken up front by a warm scan; null when cold. */
  stamps: Float64Array | null;
  prior: ScanMemo | null;
  j: number;
  next: ScanMemo | null;
  i: number;
}


/** What the two folders' names say, before any file is opened. */
export interface Listing {
  /** The stat identities of models/ and metrics/ when they were listed. */
  dirs: string;
  /** In timestamp order (ties by stem). */
  versions: ListedVersion[];
  /** Problems visible from names and file types alone (bad names, links, orphans, temp files). */
  problems: Problem[];
}

// Listings by root. Adding, removing or renaming an entry changes its folder's mtime and ctime, so a
// listing is reused while both folders' identities are unchanged (and were settled when it was made).
const listings = new Map<string, Listing>();
// Registries a process lists (a server has one; a test process many).
const LISTINGS = 16;

/** The listing cache, for the persistent scan cache to load and save. */
export const listingCache = {
  get: (root: string) => listings.get(root),
  set: (root: string, listing: Listing) => setBounded(listings, root, listing, LISTINGS),
};

/**
 * The stat identities of models/ and metrics/ as one string: it changes whenever an entry is added,
 * removed or renamed in either. `settled` when neither changed in the last second (see settledAt), so a
 * listing made now may be trusted while the string stays the same. One lstat per folder.
 */
export function folderStamps(root: string): { dirs: string; settled: boolean } {
  const now = Date.now();
  const models = dirIdentity(join(root, MODELS_DIR), now);
  const metrics = dirIdentity(join(root, METRICS_DIR), now);
  return { dirs: `${models.id}|${metrics.id}`, settled: models.settled && metrics.settled };
}

async function listRegistry(root: string): Promise<Listing> {
  const { dirs, settled } = folderStamps(root);
  const cached = listings.get(root);
  if (cached && cached.dirs === dirs) return cached;

  const [modelEntries, metricsEntries] = await Promise.all([listDir(join(root, MODELS_DIR)), listDir(join(root, METRICS_DIR))]);
  const problems: Problem[] = [];
  const versions: ListedVersion[] = [];
  const byStem = new Map<string, ListedVersion>();

  for (const entry of modelEntries) {
    const name = entry.name;
    if (name === `${ALIAS_STEM}${MODEL_EXT}`) continue;
    const problem = classifyEntry(entry, MODELS_DIR, MODEL_EXT, "model");
    if (problem) {
      problems.push(problem);
      continue;
    }
    const stem = name.slice(0, -MODEL_EXT.length);
    const checked = checkStem(stem);
    if (!checked.ok) {
      problems.push({ file: `${MODELS_DIR}/${name}`, reason: checked.code, message: checked.message });
      continue;
    }
    const listed: ListedVersion = [stem, stem.slice(0, checked.cut), stem.slice(checked.cut + 1), false];
    versions.push(listed);
    byStem.set(stem, listed);
  }

  for (const entry of metricsEntries) {
    const name = entry.name;
    if (name === `${ALIAS_STEM}${METRICS_EXT}`) continue;
    const problem = classifyEntry(entry, METRICS_DIR, METRICS_EXT, "metrics");
    if (problem) {
      problems.push(problem);
      continue;
    }
    const stem = name.slice(0, -METRICS_EXT.length);
    const listed = byStem.get(stem);
    if (listed) {
      listed[3] = true;
      continue;
    }
    const file = `${METRICS_DIR}/${name}`;
    const parsed = checkStem(stem);
    problems.push(
      parsed.ok
        ? {
            file,
            reason: "orphan_metrics",
            message: `Metrics with no model: ${MODELS_DIR}/${stem}${MODEL_EXT} does not exist (or is not a usable file), so this run is not a version. Training must write both files with matching names.`,
          }
        : { file, reason: parsed.code, message: parsed.message },
    );
  }

  versions.sort((a, b) => (a[2] === b[2] ? a[0].localeCompare(b[0]) : a[2] < b[2] ? -1 : 1));
  const listing = { dirs, versions, problems };
  if (settled) setBounded(listings, root, listing, LISTINGS);
  return listing;
}

function dirIdentity(dir: string, now: number): { id: string; settled: boolean } {
  // stat, not lstat: a models/ that is a symlink to a folder elsewhere changes with that folder.
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st) return { id: "absent", settled: true };
  return { id: `${st.dev}:${st.ino}:${st.mtimeMs}:${st.ctimeMs}`, settled: settledAt(st, now) };
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

function classifyEntry(entry: Dirent, dir: string, ext: string, kind: "model" | "metrics"): Problem | null {
  // The common case first, allocating nothing: a regular file with the right extension.
  if (entry.isFile() && entry.name.endsWith(ext) && !entry.name.startsWith(TEMP_PREFIX)) return null;
  const file = `${dir}/${entry.name}`;
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

/** What readVersion returns, in a lean scan, for a version that is a row of the scan's memo and nothing more. */
const ROW = Symbol("memo row");

function readVersion(root: string, listed: ListedVersion, problems: Problem[], ctx: ReadContext): Version | null | typeof ROW {
  const [stem, , , hasMetrics] = listed;
  // Flat strings (join), not concatenation trees: every Version keeps these for as long as a server runs.
  const modelFile = [MODELS_DIR, "/", stem, MODEL_EXT].join("");
  let model: ModelFacts = DEFERRED_MODEL;
  if (!ctx.deferModels) {
    const read = readModel(root, modelFile, ctx);
    if ("problem" in read) {
      if (read.problem) problems.push(read.problem);
      return null;
    }
    model = read;
  }
  if (!hasMetrics) return newVersion(listed, modelFile, model);
  const metricsFile = metricsFileOf(stem);
  // The common case of a repeated CLI run: the metrics file is the one the memo saw. Read nothing.
  let st: FileStamp | undefined;
  let held = false;
  if (ctx.stamps && ctx.stamps[ctx.i * STAT_ROW] === StatKind.file) {
    held = ctx.prior?.metricsHoldAt(ctx.j, ctx.stamps, ctx.i * STAT_ROW + 1) ?? false;
    if (!held) st = stampAt(ctx.stamps, ctx.i);
  }
  const memo = held ? ctx.prior : null;
  const memoProblem = memo?.problem(ctx.j) ?? null;
  if (memo && !memoProblem && ctx.detail === "scores") return memoVersion(listed, modelFile, model, memo, ctx.j);
  ctx.recorded = false;
  const metrics = memo && memoProblem ? memoisedProblem(metricsFile, memoProblem, memo, ctx.j) : readMetrics(root, metricsFile, ctx, st);
  // A lean scan keeps a sound metrics file it just read as the memo row it now is (see scanForPlan).
  if (ctx.rows && ctx.recorded && !metrics.problem) return ROW;
  if (metrics.problem) problems.push(metrics.problem);
  const version = newVersion(listed, modelFile, model, metricsFile);
  version.metricsSha256 = metrics.sha256;
  version.metrics = metrics.doc;
  version.highlights = metrics.summary?.highlights ?? (metrics.doc ? highlightsOf(metrics.doc) : null);
  version.metricsError = metrics.error;
  version.metricsDeferred = metrics.summary !== undefined;
  version.score = metrics.doc?.score ?? metrics.summary?.score ?? NO_SCORE;
  version.metric = metrics.doc?.metric ?? metrics.summary?.metric ?? UNKNOWN_METRIC;
  return version;
}

/** A version as its names and model facts describe it, knowing nothing of its metrics yet. */
function newVersion(listed: ListedVersion, modelFile: string, model: ModelFacts, metricsFile: string | null = null): Version {
  const [stem, modelType, timestamp] = listed;
  return {
    stem,
    modelType,
    timestamp: isoTimestamp(timestamp),
    modelFile,
    metricsFile,
    sha256: model.sha256,
    size: model.size,
    modifiedAt: model.modifiedAt,
    modelDeferred: model.modelDeferred,
    metricsSha256: null,
    metrics: null,
    highlights: null,
    metricsError: null,
    metricsDeferred: false,
    score: NO_SCORE,
    metric: UNKNOWN_METRIC,
    isProduction: false,
    isBest: false,
  };
}

/** A version whose score is row `at` of a memo (valid while that row holds; see ScanMemo). */
function memoVersion(listed: ListedVersion, modelFile: string, model: ModelFacts, memo: ScanMemo, at: number): Version {
  const version = newVersion(listed, modelFile, model, metricsFileOf(listed[0]));
  version.metricsSha256 = memo.metricsSha256(at);
  version.metricsDeferred = true;
  version.score = memo.score(at);
  version.metric = memo.metric(at);
  return version;
}

type ModelFacts = Pick<Version, "sha256" | "size" | "modifiedAt" | "modelDeferred">;
// size NaN, not 0: stat sizes are doubles, and a field that starts as a small integer and later holds a
// double makes V8 migrate every Version object built before (measured: 27 ms at 20,000 versions).
const DEFERRED_MODEL: ModelFacts = { sha256: "", size: Number.NaN, modifiedAt: "", modelDeferred: true };

/**
 * lstat and sha256 of a version's model file, or the problem (null when it simply vanished). The sha256
 * comes from the memo while the file's stamp matches it; a file hashed afresh is memoised once settled.
 */
function readModel(root: string, modelFile: string, ctx: ReadContext | null): ModelFacts | { problem: Problem | null } {
  const modelPath = `${root}/${modelFile}`;
  const check = checkRegularFileSync(modelPath);
  if (!check.ok) {
    return { problem: check.code === "missing" ? null : { file: modelFile, reason: check.code, message: check.message } };
  }
  const st = check.stats;
  try {
    let sha256 = ctx?.prior?.model(ctx.j, st);
    if (sha256 !== undefined && ctx?.seedHashes) hashCache.set(identityOf(st), sha256);
    if (sha256 === undefined) {
      const started = Date.now();
      sha256 = hashFileSync(modelPath, st);
      if (ctx?.next && settledAt(st, started)) ctx.next.setModel(ctx.i, st, sha256);
    }
    return { sha256, size: st.size, modifiedAt: st.mtime.toISOString(), modelDeferred: false };
  } catch (e) {
    return { problem: { file: modelFile, reason: "unreadable", message: `Cannot read the model file (${errCode(e)}).` } };
  }
}

/** The read context of one version of `root` for a load after the scan (its memo positions, if any). */
function contextOf(root: string, stem: string): ReadContext | null {
  const memo = memos.get(root);
  const next = memo?.latest ?? null;
  if (!next) return null;
  const i = next.indexOf(stem, 0);
  return { deferModels: false, detail: "scores", seedHashes: true, stamps: null, prior: next, j: i, next, i, prefetch: null };
}

/**
 * Reads the model files of versions a deferred scan listed without reading them (see ScanOptions).
 * Mutates those Version objects. A model file that vanished or became unusable since the listing throws
 * SourceChangedError: nothing may be planned on it.
 */
export function loadDeferredModels(root: string, versions: Iterable<Version | null | undefined>): void {
  for (const v of versions) {
    if (!v?.modelDeferred) continue;
    const read = readModel(root, v.modelFile, contextOf(root, v.stem));
    if ("problem" in read) {
      throw new SourceChangedError(`${v.modelFile} ${read.problem ? `is unusable: ${read.problem.message}` : "no longer exists"}.`);
    }
    Object.assign(v, read);
  }
}


// Parsed metrics by stat identity: an unchanged file is never read twice in a process.
const metricsCache = new Map<string, MetricsRead>();

// Scores without documents, from deferred scans (a plan's) in long-lived processes.
const summaryCache = new Map<string, MetricsRead>();

/**
 * Reads the full metrics documents of the given versions when the scan only had their scores (from the
 * persistent cache, or a scores-only scan). Mutates those Version objects.
 */
export function loadDeferredMetrics(root: string, versions: Iterable<Version | null | undefined>): void {
  for (const v of versions) {
    if (!v?.metricsDeferred || !v.metricsFile) continue;
    // Read and not cached: a server that shows one version's page does not keep its document for good.
    const ctx = contextOf(root, v.stem);
    const memo = ctx?.prior;
    const j = ctx?.j ?? -1;
    const read = readMetricsFile(root, v.metricsFile, "documents", (st) =>
      memo?.metricsHold(j, st) && !memo.problem(j) ? memo.metricsSha256(j) : undefined,
    );
    v.metrics = read.doc;
    v.highlights = read.doc ? highlightsOf(read.doc) : null;
    v.metricsSha256 = read.sha256;
    v.metricsError = read.error;
    v.score = read.doc?.score ?? NO_SCORE;
    v.metric = read.doc?.metric ?? UNKNOWN_METRIC;
    v.metricsDeferred = false;
  }
}

/** A metrics file's read, from a cache while `st` (its lstat, when the scan took one) still matches. */
function readMetrics(root: string, file: string, ctx: ReadContext, st: FileStamp | undefined): MetricsRead {
  if (st && (metricsCache.size > 0 || summaryCache.size > 0)) {
    const id = `${file}|${identityOf(st)}`;
    const cached = metricsCache.get(id) ?? summaryCache.get(id);
    if (cached && sufficient(cached, ctx.detail)) return cached;
  }
  const pre = ctx.prefetch ? unpackRead(ctx.prefetch, ctx.i) : null;
  const read = pre ? remember(root, file, pre) : remember(root, file, readMetricsFile(root, file, ctx.detail));
  if (ctx.next && read.stamp && read.sha256 && read.settled) {
    const problem = read.problem ? ([read.problem.reason, read.problem.message] as [ProblemCode, string]) : null;
    const score = read.doc?.score ?? read.summary?.score ?? NO_SCORE;
    const metric = read.doc?.metric ?? read.summary?.metric ?? UNKNOWN_METRIC;
    ctx.next.setMetrics(ctx.i, read.stamp, { sha256: read.sha256, score, metric, problem });
    ctx.recorded = true;
  }
  return read;
}

/** The read of an unchanged metrics file the memo knows to be broken (invalid JSON, not an object). */
function memoisedProblem(file: string, [reason, message]: [ProblemCode, string], memo: ScanMemo, j: number): MetricsRead {
  return { doc: null, sha256: memo.metricsSha256(j), error: message, problem: { file, reason, message } };
}

/** True when a cached read holds at least the detail a scan asks for. */
function sufficient(read: MetricsRead, detail: MetricsDetail): boolean {
  if (read.doc || read.problem || detail === "scores") return true;
  return detail === "highlights" && read.summary?.highlights !== undefined;
}

function remember(root: string, file: string, read: MetricsFileRead): MetricsFileRead {
  // CLI scans remember through their memo; the in-memory caches are for long-lived processes.
  if (read.stamp && read.sha256 && read.settled && !memos.has(root)) {
    const { stamp, settled: _, ...plain } = read;
    setBounded(plain.summary ? summaryCache : metricsCache, `${file}|${identityOf(stamp)}`, plain, FILE_CACHE_ENTRIES);
  }
  return read;
}

/**
 * The production alias pair: what each alias file holds, which version that is, and the problems of the
 * alias paths themselves (read on every scan: a link's target may change without its folder changing).
 */
async function readProduction(
  root: string,
  pool: VersionPool,
  deferModels: boolean,
): Promise<{ production: Production; problems: Problem[] }> {
  const model = await readAlias(root, MODEL_ALIAS);
  const metrics = await readAlias(root, METRICS_ALIAS);
  const problems = [model.problem, metrics.problem].filter((p): p is Problem => p !== null);
  const production = identifyProduction(root, pool, deferModels, model, metrics);
  const blocked = [model, metrics].filter((a) => a.blocked);
  if (blocked.length === 0) return { production, problems };
  return {
    production: {
      ...production,
      state: "blocked",
      explanation: `${blocked.map((a) => a.error).join(" ")} Every promotion and rollback is refused until it is moved away.`,
      action: `Move ${blocked.map((a) => a.file).join(" and ")} out of the way by hand (check what it holds first), then promote or roll back to write the alias pair again.`,
    },
    problems,
  };
}

function identifyProduction(root: string, pool: VersionPool, deferModels: boolean, model: AliasRead, metrics: AliasRead): Production {
  const empty = { stem: null, sha256: null, metricsSha256: null, metricsStem: null, score: null, metric: null, since: null };
  if (!model.sha256) {
    return {
      ...empty,
      metricsSha256: metrics.sha256,
      state: "missing",
      explanation: model.error ?? `There is no ${MODEL_ALIAS}: nothing is in production.`,
      action: "Promote a version to put it in production.",
    };
  }
  const metricsMatch = metrics.sha256 ? pool.withMetricsSha(metrics.sha256) : [];
  if (deferModels) {
    // The versions whose metrics the metrics alias holds are the ones production should be; read their
    // model files first, and every model file only when none of them matches the model alias.
    // A model file that cannot be read here simply matches nothing.
    const load = (vs: Version[]) => {
      for (const v of vs) {
        const read = v.modelDeferred ? readModel(root, v.modelFile, contextOf(root, v.stem)) : null;
        if (read && !("problem" in read)) Object.assign(v, read);
      }
    };
    load(metricsMatch);
    if (!metricsMatch.some((v) => v.sha256 === model.sha256)) load(pool.all());
  }
  const byModel = pool.loaded().filter((v) => v.sha256 === model.sha256);
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

// The alias files' hashes by identity, as this process read them: the persistent cache keeps these (a
// 200 MB production model is not re-hashed by every command).
const aliasHashes = new Map<string, string>();
const ALIAS_HASHES = 64;

/** Alias hashes by file identity, for the persistent scan cache. */
export const aliasHashCache = {
  entries: () => [...aliasHashes.entries()],
  set: (identity: string, sha256: string) => {
    setBounded(aliasHashes, identity, sha256, ALIAS_HASHES);
    hashCache.set(identity, sha256);
  },
};

/** One alias path as a scan reads it. */
export interface AliasRead {
  file: string;
  /** The bytes' sha256 when the path is a regular file (or a link to one inside the registry), else null. */
  sha256: string | null;
  since: string | null;
  /** Why the path cannot be read as an alias although something is there; null when read, or absent. */
  error: string | null;
  /** What the problems list says about the path itself, if anything. */
  problem: Problem | null;
  /** A folder, pipe, socket or device stands there: no rename can (or may) replace it. */
  blocked: boolean;
}

/**
 * Hashes an alias file as the scan sees it. A symlink is followed only to a regular file inside the
 * registry's folders; any other link is reported (a promotion replaces the link itself, never its target).
 * A folder, pipe, socket or device is reported as blocking every promotion (see aliasObstacle).
 */
export async function readAlias(root: string, file: string): Promise<AliasRead> {
  const path = join(root, file);
  const none = { file, sha256: null, since: null, error: null, problem: null, blocked: false };
  const check = checkRegularFileSync(path);
  if (!check.ok && check.code === "missing") return none;
  const unusable = (reason: ProblemCode, error: string, blocked = false): AliasRead => ({
    ...none,
    error,
    problem: { file, reason, message: error },
    blocked,
  });
  try {
    if (check.ok) {
      const started = Date.now();
      const sha256 = hashFileSync(path, check.stats);
      if (settledAt(check.stats, started)) setBounded(aliasHashes, identityOf(check.stats), sha256, ALIAS_HASHES);
      return { ...none, sha256, since: check.stats.mtime.toISOString() };
    }
    if (check.code === "not_regular_file") {
      return unusable("not_regular_file", obstacleMessage(file, lstatSync(path)), true);
    }
    if (check.code === "symlink") {
      // A hand-made `ln -s` alias: follow it only to a regular file inside the registry's own folders.
      const target = await realpath(path).catch(() => null);
      const rootReal = await realpath(root);
      const inside = target !== null && [MODELS_DIR, METRICS_DIR].some((d) => target.startsWith(join(rootReal, d) + sep));
      const st = target === null ? null : await stat(target);
      if (inside && st?.isFile()) return { ...none, sha256: hashFileSync(target, st), since: st.mtime.toISOString() };
      const leads = target === null ? "to nothing" : !inside ? "outside the registry's folders" : `to ${kindOf(st as Stats)}`;
      return unusable(
        "symlink",
        `${file} is a symbolic link that leads ${leads}, so nothing is read as production through it; a promotion replaces the link itself, never what it points to.`,
      );
    }
  } catch (e) {
    return unusable("unreadable", `${file} cannot be read (${errCode(e)}).`);
  }
  return unusable("unreadable", `${file}: ${check.message}`);
}

/**
 * Why no promotion may replace this alias path, or null when it may (a regular file, a symlink, or
 * nothing). A rename cannot replace a folder; a pipe, socket or device is not a file anyone here wrote, and
 * none is removed on anyone's behalf. lstat only: a link is replaced, never followed.
 */
export function aliasObstacle(root: string, file: string): string | null {
  let st: Stats | undefined;
  try {
    st = lstatSync(join(root, file), { throwIfNoEntry: false });
  } catch {
    // An unreadable folder fails the write itself, with its own message.
    return null;
  }
  return st && !st.isFile() && !st.isSymbolicLink() ? obstacleMessage(file, st) : null;
}

function obstacleMessage(file: string, st: Stats): string {
  return `${file} is ${kindOf(st)}, not a file: no promotion or rollback can replace it, and none will remove it.`;
}

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? "error";
}
