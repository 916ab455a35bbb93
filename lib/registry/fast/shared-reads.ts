// Reading many registry files in one go: the part of a scan that a worker thread can share (see
// scanRegistry). Plain functions over paths, no caches, results that survive structured cloning.
import { SCORE_KEYS, UNKNOWN_METRIC } from "../metrics";
import { type MetricsFileRead, readMetricsFile } from "../metrics-file";
import type { MetricsDetail } from "../types";
import { STAT_ROW, StatKind, stampAt } from "./stamps";

/**
 * readMetricsFiles for files shared with another thread that reads from the first file forwards, with one
 * claim flag per file: reads from the last file backwards, claiming each first (Atomics.compareExchange
 * from 0 to 1), and stops at the first one the other thread took. Packs each read as it goes, so the
 * answer is ready to post the moment the two meet (the files the other thread read are NONE). Reads only.
 */
export function readSharedMetricsFiles(root: string, files: readonly string[], detail: MetricsDetail, claims: Uint8Array): PackedReads {
  const packed = emptyPacked(files.length);
  for (let k = files.length - 1; k >= 0; k--) {
    if (Atomics.compareExchange(claims, k, 0, 1) !== 0) break;
    const file = files[k];
    if (file) packInto(packed, k, readMetricsFile(root, file, detail));
  }
  return packed;
}

/**
 * readMetricsFiles's answer in a few flat arrays, for a worker's message: 9,000 reads posted as objects
 * cost the receiving thread ~20–40 ms to deserialize (measured), which a cold scan waits for. Score-only
 * reads (the common case) are packed; anything else (a document, a problem, no stamp) travels whole.
 */
export interface PackedReads {
  /** Per read: NONE, PACKED (stamp, score, metric, sha256 below), or WHOLE (in `whole`). */
  kinds: Uint8Array;
  /** Per read, when packed: settled (1) or not (0). */
  settled: Uint8Array;
  /** Per read, when packed: its stamp as a row of lstatNames (see stampAt). */
  stamps: Float64Array;
  scores: Float64Array;
  /** Per read, when packed: the index of its metric in SCORE_KEYS, or SCORE_KEYS.length for UNKNOWN_METRIC. */
  metrics: Uint8Array;
  /** Per read, when packed: its sha256 in hex, 64 bytes (latin1). */
  shas: Uint8Array;
  whole: Record<number, MetricsFileRead>;
  /** The receiver's decoding of `shas`, made once (see shaOf). */
  shaText?: string;
}

const NONE = 0;
const PACKED = 1;
const WHOLE = 2;
const SHA_HEX = 64;

/** Packs reads (see PackedReads). Pure. */
export function packReads(reads: readonly (MetricsFileRead | null)[]): PackedReads {
  const packed = emptyPacked(reads.length);
  for (const [k, read] of reads.entries()) if (read) packInto(packed, k, read);
  return packed;
}

/** A PackedReads of n reads, all NONE. */
function emptyPacked(n: number): PackedReads {
  return {
    kinds: new Uint8Array(n),
    settled: new Uint8Array(n),
    stamps: new Float64Array(n * STAT_ROW),
    scores: new Float64Array(n),
    metrics: new Uint8Array(n),
    // Its own ArrayBuffer (Buffer.alloc never pools), to transfer; a Buffer, to write hex into.
    shas: Buffer.alloc(n * SHA_HEX),
    whole: {},
  };
}

/** Puts read `k` into `packed`. Mutates `packed`. */
function packInto(packed: PackedReads, k: number, read: MetricsFileRead): void {
  const metric = read.summary ? SCORE_KEYS.indexOf(read.summary.metric as (typeof SCORE_KEYS)[number]) : -1;
  const known = metric >= 0 || read.summary?.metric === UNKNOWN_METRIC;
  const sha = read.sha256;
  if (!read.stamp || !sha || !HEX_SHA.test(sha) || read.doc || read.problem || read.summary?.highlights || !known) {
    packed.kinds[k] = WHOLE;
    packed.whole[k] = read;
    return;
  }
  const { stamp } = read;
  packed.kinds[k] = PACKED;
  packed.settled[k] = read.settled ? 1 : 0;
  const at = k * STAT_ROW;
  packed.stamps[at] = StatKind.file;
  packed.stamps[at + 1] = stamp.dev;
  packed.stamps[at + 2] = stamp.ino;
  packed.stamps[at + 3] = stamp.size;
  packed.stamps[at + 4] = stamp.mtimeMs;
  packed.stamps[at + 5] = stamp.ctimeMs;
  packed.scores[k] = (read.summary as { score: number }).score;
  packed.metrics[k] = metric >= 0 ? metric : SCORE_KEYS.length;
  (packed.shas as Buffer).write(sha, k * SHA_HEX, SHA_HEX, "latin1");
}

const HEX_SHA = /^[0-9a-f]{64}$/;

/** Read k's sha256 (hex), from one decoding of all of them. */
function shaOf(packed: PackedReads, k: number): string {
  packed.shaText ??= Buffer.from(packed.shas.buffer, packed.shas.byteOffset, packed.shas.byteLength).toString("latin1");
  return packed.shaText.slice(k * SHA_HEX, (k + 1) * SHA_HEX);
}

/** The buffers of a PackedReads, to transfer rather than copy. Pure. */
export function packedBuffers(packed: PackedReads): ArrayBuffer[] {
  const { kinds, settled, stamps, scores, metrics, shas } = packed;
  return [kinds.buffer, settled.buffer, stamps.buffer, scores.buffer, metrics.buffer, shas.buffer] as ArrayBuffer[];
}

/**
 * Read `k` of a PackedReads as memo facts, when it is a sound, settled metrics file (a memo may keep it:
 * see settledAt), with its stamp at packed.stamps[k * STAT_ROW + 1]; else null. Pure.
 */
export function packedFacts(packed: PackedReads, k: number): { sha256: string; score: number; metric: string; problem: null } | null {
  if (packed.kinds[k] !== PACKED || packed.settled[k] !== 1) return null;
  return { sha256: shaOf(packed, k), score: packed.scores[k] as number, metric: metricOf(packed, k), problem: null };
}

/** Read `k` of a PackedReads, as readMetricsFiles gave it. Pure. */
export function unpackRead(packed: PackedReads, k: number): MetricsFileRead | null {
  const kind = packed.kinds[k];
  if (kind === NONE) return null;
  if (kind === WHOLE) return packed.whole[k] ?? null;
  const summary = { score: packed.scores[k] as number, metric: metricOf(packed, k) };
  return {
    doc: null,
    sha256: shaOf(packed, k),
    error: null,
    problem: null,
    summary,
    stamp: stampAt(packed.stamps, k),
    settled: packed.settled[k] === 1,
  };
}

/** Read k's metric name, from its index into SCORE_KEYS (see PackedReads.metrics). */
function metricOf(packed: PackedReads, k: number): string {
  return SCORE_KEYS[packed.metrics[k] as number] ?? UNKNOWN_METRIC;
}
