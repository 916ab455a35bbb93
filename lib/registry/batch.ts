// Reading many registry files in one go: the part of a scan that a worker thread can share (see
// scanRegistry). Plain functions over paths, no caches, results that survive structured cloning.
import { nodeCrypto } from "./builtins";
import { MAX_METRICS_BYTES, readSmallFileSync, settledAt } from "./files";
import { highlightsOf, parseMetricsScore, parseMetricsText } from "./metrics";
import type { MetricsDetail, MetricsRead, Problem } from "./scan";

/** What identifies a file's content while it is unchanged: a subset of Stats that clones cheaply. */
export interface FileStamp {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** One metrics file as read: the parse, and the stamp of the descriptor it was read through. */
export interface MetricsFileRead extends MetricsRead {
  stamp: FileStamp | null;
  /** The file had been still for a while before the read (see settledAt): the read may be remembered. */
  settled: boolean;
}

/**
 * Reads and parses one metrics file (no links, capped size). Never throws: a bad file comes back as a
 * problem. `knownSha256` may name the file's sha256 for the stamp it was read through (a memo's), sparing the hash.
 */
export function readMetricsFile(
  root: string,
  file: string,
  detail: MetricsDetail,
  knownSha256?: (stamp: FileStamp) => string | undefined,
): MetricsFileRead {
  const started = Date.now();
  let bytes: Buffer;
  let stamp: FileStamp;
  try {
    const read = readSmallFileSync(`${root}/${file}`, MAX_METRICS_BYTES);
    bytes = read.bytes;
    stamp = read.stamp;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code ?? "error";
    const problem: Problem =
      code === "ETOOLARGE"
        ? { file, reason: "too_large", message: `Metrics file is larger than ${MAX_METRICS_BYTES / 1024 / 1024} MiB; not read.` }
        : code === "ELOOP"
          ? { file, reason: "symlink", message: "The metrics file is a symbolic link; not read." }
          : code === "ENOTREG"
            ? { file, reason: "not_regular_file", message: "The metrics path is not a regular file; not read." }
            : { file, reason: "unreadable", message: `Cannot read the metrics file (${code}).` };
    return { doc: null, sha256: null, error: problem.message, problem, stamp: null, settled: false };
  }
  const sha256 = knownSha256?.(stamp) ?? nodeCrypto().hash("sha256", bytes, "hex");
  const text = bytes.toString("utf8");
  const parsed = detail === "scores" ? parseMetricsScore(text) : parseMetricsText(text);
  const base = {
    sha256,
    stamp,
    settled: settledAt(stamp, started),
  };
  if (!parsed.ok) {
    const message = `${parsed.message} The version is listed without metrics.`;
    return { ...base, doc: null, error: parsed.message, problem: { file, reason: parsed.code, message } };
  }
  if ("doc" in parsed && detail === "documents") return { ...base, doc: parsed.doc, error: null, problem: null };
  if ("doc" in parsed) {
    const { score, metric } = parsed.doc;
    return { ...base, doc: null, error: null, problem: null, summary: { score, metric, highlights: highlightsOf(parsed.doc) } };
  }
  return { ...base, doc: null, error: null, problem: null, summary: { score: parsed.score, metric: parsed.metric } };
}

/** readMetricsFile over many files ("" entries stand for versions without one and give null). Reads only. */
export function readMetricsFiles(root: string, files: readonly string[], detail: MetricsDetail): (MetricsFileRead | null)[] {
  return files.map((file) => (file ? readMetricsFile(root, file, detail) : null));
}
