// The shapes a scan passes between its parts (listing, reading, the memo, the worker's shared reads), in a
// module of their own that imports no part, so none of them imports another in a circle.
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
