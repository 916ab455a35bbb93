import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inspectionReports } from "@/lib/inspect/run-isolated";
import type { InspectionReport } from "@/lib/inspect/types";
import { STATE_DIR } from "../lock";
import { MEMO_FORMAT, ScanMemo } from "./memo";
import { SCORE_KEYS } from "../metrics";
import type { Problem } from "../types";
import { aliasHashCache, listingCache, scanMemos } from "./source";

const FILE = "scan-cache.bin";
/** Inspection reports kept between runs (the newest; each is a few KB). */
const MAX_REPORTS = 64;

/** The parts saved beside the memo. */
interface Extra {
  /** The rule that produced the memo's facts (see ruleFingerprint); facts saved under another are read again. */
  rule: string;
  /** The problems of the listing saved with the memo (its versions are saved in the memo's encoding). */
  listingProblems: Problem[] | null;
  /** sha256 of the alias files by stat identity. */
  aliases: [string, string][];
  /** Static inspection reports by content hash, valid for one inspector and allowlist (the epoch). */
  inspections: { epoch: string; reports: [string, InspectionReport][] };
}

export interface LoadedCache {
  /** The rule this process scores by, saved with what it learns. */
  rule?: string;
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
export function loadScanCache(root: string, rule = ruleFingerprint()): LoadedCache {
  let decoded: ReturnType<typeof ScanMemo.decode> = null;
  try {
    decoded = ScanMemo.decode(readFileSync(join(root, STATE_DIR, FILE)));
  } catch {
    // No cache yet, or an unreadable one: this run reads the files.
  }
  const extra = decoded?.extra as Extra | undefined;
  // Scores, metric names and problems are facts of the rule that read them: another rule reads the files again.
  const sameRule = extra?.rule === rule;
  scanMemos.begin(root, sameRule ? (decoded?.memo ?? null) : null);
  if (!decoded || !extra) return { rule, memo: false, aliases: 0, reports: 0 };
  if (sameRule && decoded.listing && extra.listingProblems) {
    listingCache.set(root, { dirs: decoded.memo.dirs, versions: decoded.listing, problems: extra.listingProblems });
  }
  // Alias hashes are sha256 of bytes (by stat identity) and reports carry their own epoch: no rule in them.
  for (const [id, sha] of extra.aliases ?? []) aliasHashCache.set(id, sha);
  const reports = extra.inspections?.epoch === inspectionReports.epoch() ? extra.inspections.reports : [];
  for (const [key, report] of reports) inspectionReports.set(key, report);
  return { rule, memo: sameRule, aliases: extra.aliases?.length ?? 0, reports: reports.length };
}

/**
 * A fingerprint of the rule that turns files into the facts the memo keeps: the score keys in their order,
 * the memo's format and the code that reads, names and scores (see codeVersion). Any change to the rule,
 * whether or not someone remembers to bump a number, gives another fingerprint, so a saved scan never
 * outlives the code that made it and the CLI cannot disagree with the dashboard.
 */
export function ruleFingerprint(code = codeVersion()): string {
  return createHash("sha256")
    .update(JSON.stringify({ scoreKeys: SCORE_KEYS, memoFormat: MEMO_FORMAT, code }))
    .digest("hex");
}

let cachedCodeVersion: string | undefined;

/**
 * Which code is running. From the CLI's bundle: esbuild names every chunk by a hash of its content, so the
 * sorted chunk names (plus the entry files' bytes, a few KB) change whenever any bundled code does. From
 * source (tests, development): a hash of the registry core's own source files. Reads a directory listing
 * and a few small files once per process.
 */
export function codeVersion(): string {
  if (cachedCodeVersion) return cachedCodeVersion;
  const here = fileURLToPath(import.meta.url);
  const hash = createHash("sha256");
  if (/-[A-Z0-9]{8}\.mjs$/.test(basename(here))) {
    const chunks = dirname(here);
    hash.update(
      readdirSync(chunks)
        .filter((f) => f.endsWith(".mjs"))
        .sort()
        .join("\n"),
    );
    const dist = dirname(chunks);
    for (const f of readdirSync(dist)
      .filter((f) => f.endsWith(".mjs"))
      .sort())
      hash.update(f).update(readFileSync(join(dist, f)));
  } else {
    // The rule lives in the core (lib/registry) and in this folder (lib/registry/fast): both, never deeper.
    const fast = dirname(here);
    for (const dir of [dirname(fast), fast]) {
      for (const f of readdirSync(dir)
        .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
        .sort()) {
        hash.update(f).update(readFileSync(join(dir, f)));
      }
    }
  }
  cachedCodeVersion = hash.digest("hex");
  return cachedCodeVersion;
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
    rule: loaded.rule ?? ruleFingerprint(),
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
