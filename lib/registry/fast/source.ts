// The fast fact source: the plain source's answers, remembered. A fact is reused only while the file's stat
// stamp is exactly the one it was read through (and was settled then: see settledAt), so nothing is
// trusted blindly; fast/source.test.ts proves it gives the plain source's snapshot.
//   - CLI runs keep a memo of every version's facts between runs (ScanMemo, saved by scan-cache.ts): a warm
//     run takes every metrics file's stamp in one loop (stamps.ts) and reads only what changed.
//   - A cold CLI scan of a large registry shares the metrics files with the spare worker thread.
//   - A long-lived server keeps listings and metrics facts in memory, by stat identity.
import { join } from "node:path";
import { askSpareWorker, hasSpareWorker } from "@/lib/inspect/run-isolated";
import { FILE_CACHE_ENTRIES, setBounded } from "../bounded";
import { hashCache, hashFileSync, identityOf, settledAt } from "../files";
import { folderStamps, listRegistry } from "../listing";
import { NO_SCORE, UNKNOWN_METRIC } from "../metrics";
import { factsOf, type MetricsFileRead, parseProblem, readMetricsFile } from "../metrics-file";
import { METRICS_DIR, METRICS_EXT, metricsFileOf, modelFileOf } from "../names";
import { type ModelHashMemo, readModelFile } from "../plain-source";
import type { FactSource, Listing, MetricsDetail, MetricsFacts, MetricsTable, ProblemCode } from "../types";
import { ScanMemo } from "./memo";
import { type PackedReads, packedFacts, unpackRead } from "./shared-reads";
import { lstatNames, STAT_ROW, StatKind } from "./stamps";

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

// Metrics facts by file and stat identity, in long-lived processes (CLI scans remember through their memo).
const factsCache = new Map<string, MetricsFacts>();

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

/** Scans at least this large share their metrics file work with a spare worker thread, if one runs. */
const SHARE_FROM = 2000;

export const fastSource: FactSource = {
  list: async (root) => {
    const cached = listings.get(root);
    if (cached && cached.dirs === folderStamps(root).dirs) return cached;
    const { settled, ...listing } = await listRegistry(root);
    if (settled) setBounded(listings, root, listing, LISTINGS);
    return listing;
  },
  metrics: (root, listing, detail) => readAllMetrics(root, listing, detail),
  model: (root, stem, at, forLoad = false) => readModelFile(root, modelFileOf(stem), modelMemo(root, stem, at, forLoad)),
  document: (root, stem, at) => {
    const memo = memos.get(root)?.latest;
    const i = memo ? memo.indexOf(stem, at) : -1;
    // Read and not cached: a server that shows one version's page does not keep its document for good.
    return readMetricsFile(root, metricsFileOf(stem), "documents", (st) =>
      memo?.metricsHold(i, st) && !memo.problem(i) ? memo.metricsSha256(i) : undefined,
    );
  },
  hashAlias: (path, stats) => {
    const started = Date.now();
    const sha256 = hashFileSync(path, stats);
    if (settledAt(stats, started)) setBounded(aliasHashes, identityOf(stats), sha256, ALIAS_HASHES);
    return sha256;
  },
};

/** The model sha256 the latest memo of `root` holds for `stem`, and where one just hashed is learnt. */
function modelMemo(root: string, stem: string, at: number, forLoad: boolean): ModelHashMemo | undefined {
  const memo = memos.get(root)?.latest;
  if (!memo) return undefined;
  const i = memo.indexOf(stem, at);
  return {
    known: (st) => {
      const sha256 = memo.model(i, st);
      // A plan that loads a version may copy it next: the promotion's copy then knows its hash too.
      if (sha256 !== undefined && forLoad) hashCache.set(identityOf(st), sha256);
      return sha256;
    },
    hashed: (st, sha256, started) => {
      if (i >= 0 && settledAt(st, started)) memo.setModel(i, st, sha256);
    },
  };
}

/** What one scan of the metrics files works with. */
interface Pass {
  root: string;
  listing: Listing;
  detail: MetricsDetail;
  /** The memo being filled (CLI processes only); row i describes listed version i. */
  next: ScanMemo | null;
  /** lstatNames rows of the listing's metrics files, taken up front by a warm scan; null when cold. */
  stamps: Float64Array | null;
  /** Per version: 1 when its facts are row i of `next` (no object kept: see MemoTable). */
  rows: Uint8Array;
  facts: (MetricsFacts | null)[];
}

/**
 * Every listed version's metrics facts. Synchronous loops on purpose: tens of thousands of small stats and
 * reads finish far sooner in one tight loop than through the thread pool.
 */
async function readAllMetrics(root: string, listing: Listing, detail: MetricsDetail): Promise<MetricsTable> {
  const n = listing.versions.length;
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
  // With nothing remembered yet (a first scan) an lstat before each read could only miss: read straight away.
  const warm = prior !== null || factsCache.size > 0;
  const names = listing.versions.map(([stem, , , has]) => (has ? stem + METRICS_EXT : ""));
  const stamps = warm ? lstatNames(join(root, METRICS_DIR), names) : null;
  const pass: Pass = { root, listing, detail, next, stamps, rows: new Uint8Array(n), facts: new Array(n).fill(null) };
  const shared = stamps ? null : shareWork(root, names, detail);
  const met = readRange(pass, 0, n, null, shared?.claims);
  if (shared) {
    // The worker read the rest (unless it failed: then they are read here, as usual).
    readRange(pass, met, n, await shared.reads);
  }
  if (memo && next) memo.latest = next;
  return new MemoTable(pass);
}

/** Reads versions from..to-1 in order; with `claims` (see shareWork), only while it claims each one first. */
function readRange(pass: Pass, from: number, to: number, prefetch: PackedReads | null, claims?: Uint8Array): number {
  const listed = pass.listing.versions;
  for (let i = from; i < to; i++) {
    if (claims && Atomics.compareExchange(claims, i, 0, 1) !== 0) return i;
    if (listed[i]![3]) readOne(pass, i, prefetch);
  }
  return to;
}

/** Version i's metrics facts: a memo row while its stamp holds, a cached read, or a read now. */
function readOne(pass: Pass, i: number, prefetch: PackedReads | null): void {
  const { next, stamps, detail } = pass;
  const file = metricsFileOf(pass.listing.versions[i]![0]);
  const at = i * STAT_ROW + 1;
  const isFile = stamps !== null && stamps[at - 1] === StatKind.file;
  if (isFile && next?.metricsHoldAt(i, stamps, at)) {
    const problem = next.problem(i);
    if (problem) pass.facts[i] = memoProblem(file, problem, next.metricsSha256(i));
    else if (detail === "scores") pass.rows[i] = 1;
    if (problem || detail === "scores") return;
  }
  const id = isFile && factsCache.size > 0 ? `${file}|${identityOf(stampOf(stamps, at))}` : null;
  const cached = id ? factsCache.get(id) : undefined;
  if (cached && (cached.problem || cached.highlights || detail === "scores")) {
    pass.facts[i] = cached;
    return;
  }
  // A read the worker packed as a sound, settled score goes straight into the memo.
  const packed = next && prefetch ? packedFacts(prefetch, i) : null;
  if (packed && next) {
    next.setMetricsAt(i, prefetch!.stamps, i * STAT_ROW + 1, packed);
    pass.rows[i] = 1;
    return;
  }
  const read = (prefetch && unpackRead(prefetch, i)) || readMetricsFile(pass.root, file, detail);
  remember(pass, i, file, read);
}

/** Keeps a read: as a memo row (CLI), in the in-memory cache (server), and as this scan's facts. */
function remember(pass: Pass, i: number, file: string, read: MetricsFileRead): void {
  const facts = factsOf(read);
  const lasting = read.stamp !== null && read.sha256 !== null && read.settled;
  if (lasting && pass.next) {
    // A broken file is remembered by why it is broken (the error the version shows; see parseProblem).
    const problem: [ProblemCode, string] | null = read.problem ? [read.problem.reason, read.error ?? read.problem.message] : null;
    pass.next.setMetrics(i, read.stamp!, { sha256: read.sha256!, score: facts.score, metric: facts.metric, problem });
    // Kept as the row it now is, unless the row cannot say all of it (highlights, a problem).
    if (!facts.highlights && !facts.problem && pass.next.metricsHold(i, read.stamp!)) {
      pass.rows[i] = 1;
      return;
    }
  } else if (lasting) {
    setBounded(factsCache, `${file}|${identityOf(read.stamp!)}`, facts, FILE_CACHE_ENTRIES);
  }
  pass.facts[i] = facts;
}

/** The facts of a metrics file the memo knows to be broken (invalid JSON, not an object). */
function memoProblem(file: string, [reason, error]: [ProblemCode, string], sha256: string): MetricsFacts {
  return { sha256, score: NO_SCORE, metric: UNKNOWN_METRIC, highlights: null, error, problem: parseProblem(file, reason, error) };
}

function stampOf(rows: Float64Array, at: number) {
  return { dev: rows[at]!, ino: rows[at + 1]!, size: rows[at + 2]!, mtimeMs: rows[at + 3]!, ctimeMs: rows[at + 4]! };
}

/** A scan's metrics facts: memo rows where they hold, objects for the rest. */
class MemoTable implements MetricsTable {
  private readonly next: ScanMemo | null;
  private readonly rows: Uint8Array;
  private readonly read: (MetricsFacts | null)[];
  private readonly scoresOnly: boolean;
  constructor(pass: Pass) {
    this.next = pass.next;
    this.rows = pass.rows;
    this.read = pass.facts;
    this.scoresOnly = pass.detail === "scores";
  }
  score(i: number): number {
    return this.rows[i] ? this.next!.score(i) : (this.read[i]?.score ?? NO_SCORE);
  }
  metric(i: number): string {
    return this.rows[i] ? this.next!.metric(i) : (this.read[i]?.metric ?? UNKNOWN_METRIC);
  }
  sha256(i: number): string | null {
    return this.rows[i] ? this.next!.metricsSha256(i) : (this.read[i]?.sha256 ?? null);
  }
  facts(i: number): MetricsFacts | null {
    const read = this.read[i] ?? null;
    // A cached read may know more than a scores-only scan asked for: the scan says exactly what it asked.
    if (read?.highlights && this.scoresOnly) return { ...read, highlights: null };
    if (!this.rows[i]) return read;
    const memo = this.next!;
    return { sha256: memo.metricsSha256(i), score: memo.score(i), metric: memo.metric(i), highlights: null, error: null, problem: null };
  }
}

/** A cold scan's metrics files shared with the spare worker: one claim flag per listed version. */
interface Shared {
  claims: Uint8Array;
  reads: Promise<PackedReads | null>;
}

/**
 * Shares the metrics files of a large listing with the spare worker (the CLI starts one at launch; see
 * startSpareWorker) when this scan has to read them (nothing remembered yet): this thread reads from the
 * first version on and the worker from the last one back, each claiming a version before reading it, until
 * they meet (see readSharedMetricsFiles). Neither waits on a share decided in advance: the one that runs
 * faster reads more. Null when there is nobody to share with or little to read. (Sharing the lstats of a
 * warm scan was measured too: no faster, so a warm scan stays on one thread.)
 */
function shareWork(root: string, names: readonly string[], detail: MetricsDetail): Shared | null {
  if (names.length < SHARE_FROM || !hasSpareWorker()) return null;
  const claims = new Uint8Array(new SharedArrayBuffer(names.length));
  // One string, not 20,000: posting it is a copy, not a serialisation per name.
  const stems = names.map((name) => (name ? name.slice(0, -METRICS_EXT.length) : "")).join("\0");
  const request = { kind: "registry-read-metrics", root, stems, detail, claims: claims.buffer };
  return { claims, reads: askSpareWorker<PackedReads>(request) };
}
