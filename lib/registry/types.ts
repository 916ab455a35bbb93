// The shapes a scan passes between its parts (listing, reading, the memo, the worker's shared reads), in a
// module of their own that imports no part, so none of them imports another in a circle.
import type { Stats } from "node:fs";
import type { MetricsDoc, MetricsHighlights } from "./metrics";

/** What identifies a file's content while it is unchanged: a subset of Stats that clones cheaply. */
export interface FileStamp {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
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

export type MetricsDetail = "documents" | "highlights" | "scores";

/**
 * One version as its file names describe it: [stem, model type, compact timestamp ("20250101T103045Z",
 * the stem's last characters: ordered as the instants are), has a metrics file].
 */
export type ListedVersion = [stem: string, modelType: string, timestamp: string, hasMetrics: boolean];

export interface MetricsRead {
  doc: MetricsDoc | null;
  sha256: string | null;
  error: string | null;
  problem: Problem | null;
  /** Set instead of `doc` when only the score is known (from the persistent scan cache). */
  summary?: { score: number; metric: string; highlights?: MetricsHighlights };
}

/**
 * What a scan knows of a version's metrics file: its sha256 and score, the highlights lists show (null in a
 * scores-only scan), or why it is unusable. Never the whole document: `loadVersion` reads that.
 */
export interface MetricsFacts {
  sha256: string | null;
  score: number;
  metric: string;
  highlights: MetricsHighlights | null;
  error: string | null;
  problem: Problem | null;
}

/** A version as a scan lists it: its names, its score and what lists show of its metrics. No model file facts. */
export interface Version {
  stem: string;
  modelType: string;
  /** ISO 8601 UTC, from the file name. */
  timestamp: string;
  modelFile: string;
  metricsFile: string | null;
  metricsSha256: string | null;
  /** What lists and charts show of the metrics; null without metrics, or in a scores-only scan. */
  highlights: MetricsHighlights | null;
  /** Why the metrics could not be used, when the file exists but is broken. */
  metricsError: string | null;
  score: number;
  metric: string;
  isProduction: boolean;
  isBest: boolean;
}

/** A model file as read: its sha256, size and mtime. */
export interface ModelFacts {
  sha256: string;
  size: number;
  modifiedAt: string;
}

/** A listed version with its model file's facts (what `registry list` prints). */
export type HashedVersion = Version & ModelFacts;

/** A version with everything read: model file facts and the whole metrics document (see loadVersion). */
export interface LoadedVersion extends HashedVersion {
  metrics: MetricsDoc | null;
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

/** A model file's facts, or why it cannot be used (problem null: it simply vanished). */
export type ModelRead = ModelFacts | { problem: Problem | null };

/**
 * The facts of every listed version's metrics file, by listing index, without an object per version
 * unless asked (a plan ranks 20,000 versions and builds two).
 */
export interface MetricsTable {
  score(i: number): number;
  metric(i: number): string;
  sha256(i: number): string | null;
  /** Version i's metrics facts; null when it has no metrics file. */
  facts(i: number): MetricsFacts | null;
}

/**
 * Where a scan gets its facts. The plain source (plain-source.ts) reads the files every time; the fast one
 * (fast/source.ts) remembers them by stat stamp, across threads and CLI runs. Both must give the same
 * snapshot (fast/source.test.ts).
 */
export interface FactSource {
  /** The listing of root's models/ and metrics/ (names and file types; no file opened). */
  list(root: string): Promise<Listing>;
  /** The metrics facts of every listed version at `detail` (scores only, or the highlights too). */
  metrics(root: string, listing: Listing, detail: MetricsDetail): Promise<MetricsTable>;
  /**
   * A version's model file facts. `at`: its index in the latest listing, if known (else -1); `forLoad`
   * when a page or plan asks for it after the scan (and may copy the file next).
   */
  model(root: string, stem: string, at: number, forLoad?: boolean): ModelRead;
  /** A version's whole metrics file, read now (`at` as for model). */
  document(root: string, stem: string, at: number): MetricsRead;
  /** sha256 of an alias file (a regular file, already checked). */
  hashAlias(path: string, stats: Stats): string;
}
