import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hashCache } from "./files";
import { STATE_DIR } from "./lock";
import { metricsReadCache, metricsSummaryCache } from "./scan";

const FILE = "scan-cache.json";
const VERSION = 1;

interface Stored {
  v: number;
  hashes: [string, string][];
  /** key "file|identity" → [sha256, score, metric, problem code or null, problem message or null] */
  metrics: [string, string, number, string, string | null, string | null][];
}

/**
 * Loads the scan cache a previous CLI run saved under <root>/.registry: sha256 per file identity and the
 * score of each metrics file. Nothing in it is trusted blindly: every entry is keyed by the file's stat
 * identity (device, inode, size, mtime, ctime), so a changed file misses and is read again. A missing or
 * unreadable cache is ignored.
 */
export function loadScanCache(root: string): LoadedCache {
  let stored: Stored;
  try {
    stored = JSON.parse(readFileSync(join(root, STATE_DIR, FILE), "utf8")) as Stored;
  } catch {
    return { hashes: 0 };
  }
  if (stored.v !== VERSION) return { hashes: 0 };
  for (const [id, sha] of stored.hashes) hashCache.set(id, sha);
  for (const [key, sha256, score, metric, code, message] of stored.metrics) {
    const file = key.slice(0, key.indexOf("|"));
    metricsSummaryCache.set(key, {
      doc: null,
      sha256,
      error: message,
      problem: code && message ? ({ file, reason: code, message } as never) : null,
      summary: code ? undefined : { score, metric },
    });
  }
  return { hashes: stored.hashes.length };
}

export interface LoadedCache {
  hashes: number;
}

/**
 * Saves what this process learned for the next run (atomically: temp file + rename). Best effort: a
 * read-only registry simply runs without a persistent cache.
 */
export function saveScanCache(root: string, loaded: LoadedCache): void {
  const metrics: Stored["metrics"] = [];
  const seen = new Set<string>();
  for (const [key, read] of metricsReadCache.entries()) {
    if (!read.sha256) continue;
    seen.add(key);
    metrics.push([
      key,
      read.sha256,
      read.doc?.score ?? -1,
      read.doc?.metric ?? "unknown",
      read.problem?.reason ?? null,
      read.problem?.message ?? null,
    ]);
  }
  for (const [key, read] of metricsSummaryCache.entries()) {
    if (seen.has(key) || !read.sha256) continue;
    metrics.push([
      key,
      read.sha256,
      read.summary?.score ?? -1,
      read.summary?.metric ?? "unknown",
      read.problem?.reason ?? null,
      read.problem?.message ?? null,
    ]);
  }
  const hashes = [...hashCache.entries()];
  const summaries = new Set([...metricsSummaryCache.entries()].map(([k]) => k));
  const learned = hashes.length !== loaded.hashes || [...seen].some((k) => !summaries.has(k));
  if (!learned) return;
  try {
    const dir = join(root, STATE_DIR);
    mkdirSync(dir, { recursive: true });
    const temp = join(dir, `${FILE}.${process.pid}.tmp`);
    writeFileSync(temp, JSON.stringify({ v: VERSION, hashes, metrics } satisfies Stored));
    renameSync(temp, join(dir, FILE));
  } catch {
    // A read-only registry: the next run just reads the files again.
  }
}
