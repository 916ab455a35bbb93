import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inspectionReports } from "@/lib/inspect/run-isolated";
import type { InspectionReport } from "@/lib/inspect/types";
import { STATE_DIR } from "./lock";
import { ScanMemo } from "./memo";
import { aliasHashCache, listingCache, type Problem, scanMemos } from "./scan";

const FILE = "scan-cache.bin";
/** Inspection reports kept between runs (the newest; each is a few KB). */
const MAX_REPORTS = 64;

/** The parts saved beside the memo. */
interface Extra {
  /** The problems of the listing saved with the memo (its versions are saved in the memo's encoding). */
  listingProblems: Problem[] | null;
  /** sha256 of the alias files by stat identity. */
  aliases: [string, string][];
  /** Static inspection reports by content hash, valid for one inspector and allowlist (the epoch). */
  inspections: { epoch: string; reports: [string, InspectionReport][] };
}

export interface LoadedCache {
  /** A memo of an earlier scan was found (this run will mostly lstat, not read). */
  memo: boolean;
  aliases: number;
  reports: number;
}

/**
 * Loads what a previous CLI run saved under <root>/.registry and makes this process's scans record what
 * they see: the folders' listing, the stamp and facts of every version's files (see ScanMemo), the alias
 * hashes and inspection reports. Nothing in it is trusted blindly: the listing is used only while both
 * folders' stat identities are unchanged, a file's facts only while its stamp (device, inode, size,
 * mtime, ctime) is unchanged, and reports are keyed by the sha256 of the bytes. A missing, foreign or
 * torn cache is ignored.
 */
export function loadScanCache(root: string): LoadedCache {
  let decoded: ReturnType<typeof ScanMemo.decode> = null;
  try {
    decoded = ScanMemo.decode(readFileSync(join(root, STATE_DIR, FILE)));
  } catch {
    // No cache yet, or an unreadable one: this run reads the files.
  }
  scanMemos.begin(root, decoded?.memo ?? null);
  if (!decoded) return { memo: false, aliases: 0, reports: 0 };
  const { memo } = decoded;
  const extra = decoded.extra as Extra;
  if (decoded.listing && extra.listingProblems) {
    listingCache.set(root, { dirs: memo.dirs, versions: decoded.listing, problems: extra.listingProblems });
  }
  for (const [id, sha] of extra.aliases) aliasHashCache.set(id, sha);
  const reports = extra.inspections.epoch === inspectionReports.epoch() ? extra.inspections.reports : [];
  for (const [key, report] of reports) inspectionReports.set(key, report);
  return { memo: true, aliases: extra.aliases.length, reports: reports.length };
}

/**
 * Saves what this process learned for the next run, if anything (atomically: temp file + rename). Best
 * effort: a read-only registry simply runs without a persistent cache.
 */
export function saveScanCache(root: string, loaded: LoadedCache): void {
  const memo = scanMemos.latest(root);
  const aliases = aliasHashCache.entries();
  const reports = inspectionReports.entries().slice(-MAX_REPORTS);
  const learned = memo?.changed || aliases.length !== loaded.aliases || reports.length !== loaded.reports;
  if (!memo || !learned) return;
  const cached = listingCache.get(root);
  const listing = cached?.dirs === memo.dirs ? cached : null;
  const extra: Extra = {
    listingProblems: listing?.problems ?? null,
    aliases,
    inspections: { epoch: inspectionReports.epoch(), reports },
  };
  try {
    const dir = join(root, STATE_DIR);
    mkdirSync(dir, { recursive: true });
    const temp = join(dir, `${FILE}.${process.pid}.tmp`);
    writeFileSync(temp, memo.encode(extra, listing?.versions ?? null));
    renameSync(temp, join(dir, FILE));
    // The JSON cache of earlier releases, if any, is dead weight now.
    rmSync(join(dir, "scan-cache.json"), { force: true });
  } catch {
    // A read-only registry: the next run just reads the files again.
  }
}
