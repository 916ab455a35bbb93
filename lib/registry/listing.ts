// The listing: what the two folders' names and file types say, before any file is opened.
import type { Dirent, Stats } from "node:fs";
import { statSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { RegistryError } from "./errors";
import { settledAt } from "./files";
import { ALIAS_STEM, checkStem, METRICS_DIR, METRICS_EXT, MODEL_EXT, MODELS_DIR } from "./names";
import type { ListedVersion, Listing, Problem } from "./types";

export const MODEL_ALIAS = `${MODELS_DIR}/${ALIAS_STEM}${MODEL_EXT}`;
export const METRICS_ALIAS = `${METRICS_DIR}/${ALIAS_STEM}${METRICS_EXT}`;
/** Temp files written next to an alias during a promotion; anything matching is ours to clean up. */
export const TEMP_PREFIX = `.${ALIAS_STEM}.`;

export class RegistryNotFoundError extends RegistryError {
  override readonly code = "registry_not_found";
  override readonly exitCode = 2;
}

/**
 * The stat identities of models/ and metrics/ as one string: it changes whenever an entry is added,
 * removed or renamed in either. `settled` when neither changed in the last second (see settledAt), so a
 * listing made now may be trusted while the string stays the same. One lstat per folder.
 */
export function folderStamps(root: string): { dirs: string; settled: boolean } {
  const now = Date.now();
  const models = dirIdentity(join(root, MODELS_DIR), now);
  const metrics = dirIdentity(join(root, METRICS_DIR), now);
  return { dirs: `${models.id}|${metrics.id}`, settled: models.settled && metrics.settled };
}

/**
 * Lists root's models/ and metrics/: every version their names describe, in timestamp order, and the problems
 * visible from names and file types alone. Opens no file. `settled`: neither folder changed in the last
 * second (a listing may then be remembered by `dirs`).
 */
export async function listRegistry(root: string): Promise<Listing & { settled: boolean }> {
  const { dirs, settled } = folderStamps(root);

  const [modelEntries, metricsEntries] = await Promise.all([listDir(join(root, MODELS_DIR)), listDir(join(root, METRICS_DIR))]);
  const problems: Problem[] = [];
  const versions: ListedVersion[] = [];
  const byStem = new Map<string, ListedVersion>();

  for (const entry of modelEntries) {
    const name = entry.name;
    if (name === `${ALIAS_STEM}${MODEL_EXT}`) continue;
    const problem = classifyEntry(entry, MODELS_DIR, MODEL_EXT, "model");
    if (problem) {
      problems.push(problem);
      continue;
    }
    const stem = name.slice(0, -MODEL_EXT.length);
    const checked = checkStem(stem);
    if (!checked.ok) {
      problems.push({ file: `${MODELS_DIR}/${name}`, reason: checked.code, message: checked.message });
      continue;
    }
    const listed: ListedVersion = [stem, stem.slice(0, checked.cut), stem.slice(checked.cut + 1), false];
    versions.push(listed);
    byStem.set(stem, listed);
  }

  for (const entry of metricsEntries) {
    const name = entry.name;
    if (name === `${ALIAS_STEM}${METRICS_EXT}`) continue;
    const problem = classifyEntry(entry, METRICS_DIR, METRICS_EXT, "metrics");
    if (problem) {
      problems.push(problem);
      continue;
    }
    const stem = name.slice(0, -METRICS_EXT.length);
    const listed = byStem.get(stem);
    if (listed) {
      listed[3] = true;
      continue;
    }
    const file = `${METRICS_DIR}/${name}`;
    const parsed = checkStem(stem);
    problems.push(
      parsed.ok
        ? {
            file,
            reason: "orphan_metrics",
            message: `Metrics with no model: ${MODELS_DIR}/${stem}${MODEL_EXT} does not exist (or is not a usable file), so this run is not a version. Training must write both files with matching names.`,
          }
        : { file, reason: parsed.code, message: parsed.message },
    );
  }

  versions.sort((a, b) => (a[2] === b[2] ? a[0].localeCompare(b[0]) : a[2] < b[2] ? -1 : 1));
  return { dirs, versions, problems, settled };
}

function dirIdentity(dir: string, now: number): { id: string; settled: boolean } {
  // stat, not lstat: a models/ that is a symlink to a folder elsewhere changes with that folder.
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st) return { id: "absent", settled: true };
  return { id: `${st.dev}:${st.ino}:${st.mtimeMs}:${st.ctimeMs}`, settled: settledAt(st, now) };
}

/** Throws RegistryNotFoundError unless root is a folder. */
export async function assertRoot(root: string): Promise<void> {
  let st: Stats;
  try {
    st = await stat(root);
  } catch {
    throw new RegistryNotFoundError(
      `No registry at ${root}: the folder does not exist. Pass --root DIR or set REGISTRY_ROOT to the folder holding models/ and metrics/.`,
    );
  }
  if (!st.isDirectory()) throw new RegistryNotFoundError(`${root} is not a folder.`);
}

async function listDir(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
}

function classifyEntry(entry: Dirent, dir: string, ext: string, kind: "model" | "metrics"): Problem | null {
  // The common case first, allocating nothing: a regular file with the right extension.
  if (entry.isFile() && entry.name.endsWith(ext) && !entry.name.startsWith(TEMP_PREFIX)) return null;
  const file = `${dir}/${entry.name}`;
  const name = entry.name;
  if (name.startsWith(TEMP_PREFIX)) {
    return {
      file,
      reason: "temp_file",
      message: "Temporary file left by an interrupted promotion; the next promotion or start-up removes it.",
    };
  }
  if (!name.endsWith(ext)) {
    const lower = name.toLowerCase().endsWith(ext);
    return {
      file,
      reason: "unexpected_file",
      message: lower
        ? `Extension must be exactly "${ext}" (case-sensitive): rename the file to use it as a ${kind} file.`
        : `Not a ${kind} file (expected {model_type}_{YYYYMMDDTHHMMSSZ}${ext}); ignored.`,
    };
  }
  if (entry.isSymbolicLink()) {
    return { file, reason: "symlink", message: `The ${kind} file is a symbolic link: versions must be regular files, never links.` };
  }
  if (!entry.isFile()) {
    return { file, reason: "not_regular_file", message: `The ${kind} path is not a regular file; ignored.` };
  }
  return null;
}
