// Reading one metrics file: the parse, its sha256 and the stamp of the descriptor it was read through.
// Plain functions over paths, no caches, results that survive structured cloning (a worker posts them).
import { nodeCrypto } from "@/lib/lazy-builtins";
import { MAX_METRICS_BYTES, readSmallFileSync, settledAt } from "./files";
import { highlightsOf, type MetricsParse, NO_SCORE, parseMetricsScore, parseMetricsText, UNKNOWN_METRIC } from "./metrics";
import type { FileStamp, MetricsDetail, MetricsFacts, MetricsRead, Problem, ProblemCode } from "./types";

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
  const settled = settledAt(stamp, started);
  // Literals of one shape, no spreads: a first CLI run builds 20,000 of these (a spread cost ~2 µs each).
  if (detail === "scores") {
    const parsed = parseMetricsScore(text);
    if (!parsed.ok) return unparsed(file, parsed, sha256, stamp, settled);
    const summary = { score: parsed.score, metric: parsed.metric };
    return { doc: null, sha256, error: null, problem: null, summary, stamp, settled };
  }
  const parsed = parseMetricsText(text);
  if (!parsed.ok) return unparsed(file, parsed, sha256, stamp, settled);
  if (detail === "documents") return { doc: parsed.doc, sha256, error: null, problem: null, stamp, settled };
  const { score, metric } = parsed.doc;
  const summary = { score, metric, highlights: highlightsOf(parsed.doc) };
  return { doc: null, sha256, error: null, problem: null, summary, stamp, settled };
}

function unparsed(
  file: string,
  parsed: Extract<MetricsParse, { ok: false }>,
  sha256: string,
  stamp: FileStamp,
  settled: boolean,
): MetricsFileRead {
  const problem = parseProblem(file, parsed.code, parsed.message);
  return { doc: null, sha256, error: parsed.message, problem, stamp, settled };
}

/** readMetricsFile over many files ("" entries stand for versions without one and give null). Reads only. */
export function readMetricsFiles(root: string, files: readonly string[], detail: MetricsDetail): (MetricsFileRead | null)[] {
  return files.map((file) => (file ? readMetricsFile(root, file, detail) : null));
}

/** The problem of a metrics file that was read but does not parse (`error`: why, as the version shows it). */
export function parseProblem(file: string, reason: ProblemCode, error: string): Problem {
  return { file, reason, message: `${error} The version is listed without metrics.` };
}

/** A read as the facts a scan keeps (see MetricsFacts). Pure. */
export function factsOf(read: MetricsRead): MetricsFacts {
  const s = read.summary;
  const doc = read.doc;
  return {
    sha256: read.sha256,
    score: doc?.score ?? s?.score ?? NO_SCORE,
    metric: doc?.metric ?? s?.metric ?? UNKNOWN_METRIC,
    highlights: s?.highlights ?? (doc ? highlightsOf(doc) : null),
    error: read.error,
    problem: read.problem,
  };
}
