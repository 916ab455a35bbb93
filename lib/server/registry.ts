import "server-only";
import { type FSWatcher, watch } from "node:fs";
import { join } from "node:path";
import { openAudit } from "@/lib/audit";
import { repairOnStart } from "@/lib/release";
import { providerOf } from "@/lib/db";
import {
  folderStamps,
  freezeSnapshot,
  type HashedVersion,
  type LoadedVersion,
  loadModel,
  loadVersion,
  METRICS_DIR,
  MODELS_DIR,
  needsRecovery,
  resolveMinScore,
  resolveRoot,
  type Snapshot,
  SourceChangedError,
  scanRegistry,
  type Version,
} from "@/lib/registry";
import { buildChartData, type ChartData } from "@/lib/views/chart-data";
import { toRow, type VersionRow } from "@/lib/views/version-rows";

/** The registry root this server serves (REGISTRY_ROOT, else ./artifacts). */
export function registryRoot(): string {
  return resolveRoot();
}

/** The release threshold in force (REGISTRY_MIN_SCORE, else 0.60). */
export function minScore(): number {
  return resolveMinScore();
}

const SYSTEM = { name: "system", role: "system", source: "web" as const };

// What the server keeps of every version: the highlights the table and charts show, not whole metrics
// documents (at 20,000 versions those alone are tens of megabytes), and no model file facts: the table
// needs none, and hashing every model file would make a server's first page read the whole registry.
// Pages read documents and model facts on demand (loadVersion, loadModel): new objects, never the cached ones.
const LEAN = { metrics: "highlights" } as const;

/**
 * Each of these versions with its whole metrics document and model file facts, read as it is asked for:
 * a page that reduces every document to a bounded view (compare) holds one document at a time, whatever
 * their sizes. New objects; throws SourceChangedError when a model file vanished since the scan.
 */
export function* eachWithDocument(snapshot: Snapshot, versions: Iterable<Version>): Generator<LoadedVersion> {
  for (const v of versions) yield loadVersion(snapshot.root, v);
}

/**
 * These versions with their model file facts (one lstat each; the sha256 is remembered by the file's
 * stat identity, so a repeated page hashes nothing), as new objects: the cached snapshot is shared by every
 * request and never changed. A version whose model file became unusable since the scan is returned as it
 * is, without them: the next scan reports it.
 */
export function withModelFacts(root: string, versions: readonly Version[]): (Version | HashedVersion)[] {
  return versions.map((v) => {
    try {
      return loadModel(root, v);
    } catch (e) {
      if (!(e instanceof SourceChangedError)) throw e;
      return v;
    }
  });
}

// The last scan, reused while nothing in models/ or metrics/ changed. Two signals, both required:
// the folders' own stat (an added, removed or renamed file changes it at once, before any request can see
// the file) and inotify events (an in-place edit of an existing file). Writes never use this cache.
let cached: { root: string; stamp: string; changes: number; change: number; snapshot: Snapshot } | null = null;
let changes = 0;
let watched: { root: string; watchers: FSWatcher[] } | null = null;

function watchFolders(root: string): boolean {
  if (watched?.root === root) return watched.watchers.length === 2;
  for (const w of watched?.watchers ?? []) w.close();
  const watchers: FSWatcher[] = [];
  for (const dir of [MODELS_DIR, METRICS_DIR]) {
    try {
      const w = watch(join(root, dir), { persistent: false }, () => {
        changes++;
      });
      w.on("error", () => {
        changes++;
        watched = null;
      });
      watchers.push(w);
    } catch {
      // No watch (missing folder, inotify limits): every request scans, which is correct, only slower.
    }
  }
  watched = { root, watchers };
  return watchers.length === 2;
}

/**
 * The registry as it is now, for reading pages: a new run written by training shows up on the next load.
 * When a crashed writer left a journal (one stat to find out), the change is finished and audited first.
 * Unchanged folders reuse the previous scan.
 */
export async function loadSnapshot(): Promise<Snapshot> {
  const root = registryRoot();
  await repairOnStart(root, SYSTEM);
  const watching = watchFolders(root);
  const stamp = folderStamps(root).dirs;
  const change = await lastProductionChange(root);
  if (watching && cached?.root === root && cached.stamp === stamp && cached.changes === changes && cached.change === change) {
    return cached.snapshot;
  }
  const before = changes;
  let snapshot = await scanRegistry(root, LEAN);
  if (snapshot.production.state !== "ok" && needsRecovery(root)) {
    // Scanned between a writer's two renames: wait for it (it holds the lock) and read the finished pair.
    await repairOnStart(root, SYSTEM);
    snapshot = await scanRegistry(root, LEAN);
  }
  // Frozen: every request shares it, and a page that changed it would change every other page's.
  freezeSnapshot(snapshot);
  cached = { root, stamp, changes: before, change, snapshot };
  return snapshot;
}

const PRODUCTION_CHANGES = ["model.promoted", "model.rolled_back", "model.change_recovered"];

/**
 * With PostgreSQL, several replicas may serve one shared folder: inotify does not see another machine's
 * writes, and shared storage may cache a folder's stat. Every promotion, rollback or repair from any
 * replica or CLI is in the database, so its newest one is a third signal (one indexed read). 0 on SQLite.
 */
async function lastProductionChange(root: string): Promise<number> {
  const db = openAudit(root);
  if (providerOf(db) !== "postgresql") return 0;
  const last = await db.auditEvent.findFirst({
    where: { action: { in: PRODUCTION_CHANGES } },
    orderBy: { seq: "desc" },
    select: { seq: true },
  });
  return last?.seq ?? 0;
}

const views = new WeakMap<Snapshot, { rows: VersionRow[]; charts: ChartData }>();

/** Table rows and chart data for a snapshot, computed once per scan. */
export function overviewData(snapshot: Snapshot): { rows: VersionRow[]; charts: ChartData } {
  let v = views.get(snapshot);
  if (!v) {
    const rows = snapshot.versions.map((x) => toRow(x, snapshot.production));
    v = { rows, charts: buildChartData(rows) };
    views.set(snapshot, v);
  }
  return v;
}
