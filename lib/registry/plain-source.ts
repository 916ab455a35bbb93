// The plain fact source: reads every file it is asked about, every time, and remembers nothing. The fast
// source (fast/source.ts) must give the same snapshot (fast/source.test.ts).
import { errCode } from "./alias";
import { checkRegularFileSync, hashFileSync } from "./files";
import { listRegistry } from "./listing";
import { NO_SCORE, UNKNOWN_METRIC } from "./metrics";
import { factsOf, readMetricsFile } from "./metrics-file";
import { metricsFileOf, modelFileOf } from "./names";
import type { Stats } from "node:fs";
import type { FactSource, MetricsFacts, MetricsTable, ModelRead } from "./types";

export const plainSource: FactSource = {
  list: (root) => listRegistry(root),
  metrics: async (root, listing, detail) =>
    tableOf(
      listing.versions.map(([stem, , , hasMetrics]) => (hasMetrics ? factsOf(readMetricsFile(root, metricsFileOf(stem), detail)) : null)),
    ),
  model: (root, stem) => readModelFile(root, modelFileOf(stem)),
  document: (root, stem) => readMetricsFile(root, metricsFileOf(stem), "documents"),
  hashAlias: (path, stats) => hashFileSync(path, stats),
};

/** A MetricsTable over one MetricsFacts (or null) per listed version. Pure. */
export function tableOf(facts: readonly (MetricsFacts | null)[]): MetricsTable {
  return {
    score: (i) => facts[i]?.score ?? NO_SCORE,
    metric: (i) => facts[i]?.metric ?? UNKNOWN_METRIC,
    sha256: (i) => facts[i]?.sha256 ?? null,
    facts: (i) => facts[i] ?? null,
  };
}

/** What a fast source knows or learns of a model file's sha256 (see readModelFile). */
export interface ModelHashMemo {
  /** The sha256 for the stat `st`, if known: the file is then not read. */
  known(st: Stats): string | undefined;
  /** Called with a sha256 just computed, and when the hashing started. */
  hashed(st: Stats, sha256: string, startedMs: number): void;
}

/** lstat and sha256 of a model file, or its problem (null when it simply vanished). Reads only. */
export function readModelFile(root: string, modelFile: string, memo?: ModelHashMemo): ModelRead {
  const check = checkRegularFileSync(`${root}/${modelFile}`);
  if (!check.ok) {
    return { problem: check.code === "missing" ? null : { file: modelFile, reason: check.code, message: check.message } };
  }
  const st = check.stats;
  try {
    let sha256 = memo?.known(st);
    if (sha256 === undefined) {
      const started = Date.now();
      sha256 = hashFileSync(`${root}/${modelFile}`, st);
      memo?.hashed(st, sha256, started);
    }
    return { sha256, size: st.size, modifiedAt: st.mtime.toISOString() };
  } catch (e) {
    return { problem: { file: modelFile, reason: "unreadable", message: `Cannot read the model file (${errCode(e)}).` } };
  }
}
