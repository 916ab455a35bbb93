// The production alias paths as a scan reads them, and what may stand in a promotion's way.
import { lstatSync, type Stats } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { checkRegularFileSync, hashFileSync, kindOf } from "./files";
import { METRICS_DIR, MODELS_DIR } from "./names";
import type { Problem, ProblemCode } from "./types";

/** One alias path as a scan reads it. */
export interface AliasRead {
  file: string;
  /** The bytes' sha256 when the path is a regular file (or a link to one inside the registry), else null. */
  sha256: string | null;
  since: string | null;
  /** Why the path cannot be read as an alias although something is there; null when read, or absent. */
  error: string | null;
  /** What the problems list says about the path itself, if anything. */
  problem: Problem | null;
  /** A folder, pipe, socket or device stands there: no rename can (or may) replace it. */
  blocked: boolean;
}

/**
 * Hashes an alias file as the scan sees it. A symlink is followed only to a regular file inside the
 * registry's folders; any other link is reported (a promotion replaces the link itself, never its target).
 * A folder, pipe, socket or device is reported as blocking every promotion (see aliasObstacle). `hash`
 * hashes a regular alias file (the fast source remembers what it hashed). Reads only.
 */
export async function readAlias(
  root: string,
  file: string,
  hash: (path: string, stats: Stats) => string = hashFileSync,
): Promise<AliasRead> {
  const path = join(root, file);
  const none = { file, sha256: null, since: null, error: null, problem: null, blocked: false };
  const check = checkRegularFileSync(path);
  if (!check.ok && check.code === "missing") return none;
  const unusable = (reason: ProblemCode, error: string, blocked = false): AliasRead => ({
    ...none,
    error,
    problem: { file, reason, message: error },
    blocked,
  });
  try {
    if (check.ok) {
      const sha256 = hash(path, check.stats);
      return { ...none, sha256, since: check.stats.mtime.toISOString() };
    }
    if (check.code === "not_regular_file") {
      return unusable("not_regular_file", obstacleMessage(file, lstatSync(path)), true);
    }
    if (check.code === "symlink") {
      // A hand-made `ln -s` alias: follow it only to a regular file inside the registry's own folders.
      const target = await realpath(path).catch(() => null);
      const rootReal = await realpath(root);
      const inside = target !== null && [MODELS_DIR, METRICS_DIR].some((d) => target.startsWith(join(rootReal, d) + sep));
      const st = target === null ? null : await stat(target);
      if (inside && st?.isFile()) return { ...none, sha256: hashFileSync(target, st), since: st.mtime.toISOString() };
      const leads = target === null ? "to nothing" : !inside ? "outside the registry's folders" : `to ${kindOf(st as Stats)}`;
      return unusable(
        "symlink",
        `${file} is a symbolic link that leads ${leads}, so nothing is read as production through it; a promotion replaces the link itself, never what it points to.`,
      );
    }
  } catch (e) {
    return unusable("unreadable", `${file} cannot be read (${errCode(e)}).`);
  }
  return unusable("unreadable", `${file}: ${check.message}`);
}

/**
 * Why no promotion may replace this alias path, or null when it may (a regular file, a symlink, or
 * nothing). A rename cannot replace a folder; a pipe, socket or device is not a file anyone here wrote, and
 * none is removed on anyone's behalf. lstat only: a link is replaced, never followed.
 */
export function aliasObstacle(root: string, file: string): string | null {
  let st: Stats | undefined;
  try {
    st = lstatSync(join(root, file), { throwIfNoEntry: false });
  } catch {
    // An unreadable folder fails the write itself, with its own message.
    return null;
  }
  return st && !st.isFile() && !st.isSymbolicLink() ? obstacleMessage(file, st) : null;
}

function obstacleMessage(file: string, st: Stats): string {
  return `${file} is ${kindOf(st)}, not a file: no promotion or rollback can replace it, and none will remove it.`;
}

export function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? "error";
}
