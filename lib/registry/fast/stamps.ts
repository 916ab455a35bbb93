// Stat shortcuts: a warm scan takes every metrics file's stamp in one tight loop, as numbers, before it
// decides which files it must read.
import { constants, lstatSync, type Stats } from "node:fs";
import type { Stamp } from "../files";

/** Per name in lstatNames' result: the file's kind, then its stamp (dev, ino, size, mtimeMs, ctimeMs). */
export const STAT_ROW = 6;
/** Kinds in lstatNames' result. */
export const StatKind = { missing: 0, file: 1, symlink: 2, other: 3, unreadable: 4 } as const;

/**
 * lstat of every name in `dir` (plain names, no slashes), as STAT_ROW numbers per name: a kind from
 * StatKind, then the stamp (NaN when missing or unreadable; all NaN for an empty name, which is skipped).
 * Reads nothing and never follows a link.
 */
export function lstatNames(dir: string, names: readonly string[]): Float64Array {
  const out = new Float64Array(names.length * STAT_ROW).fill(Number.NaN);
  for (let i = 0; i < names.length; i++) {
    const at = i * STAT_ROW;
    const name = names[i] as string;
    if (name === "") continue;
    try {
      const st = lstatSync(`${dir}/${name}`, { throwIfNoEntry: false });
      out[at] = st === undefined ? StatKind.missing : kindOfMode(st.mode);
      if (st !== undefined) stampStats(out, at + 1, st);
    } catch {
      out[at] = StatKind.unreadable;
    }
  }
  return out;
}

/** Row i of lstatNames' result as a FileStamp-shaped object (for the rare file that must be read). */
export function stampAt(rows: Float64Array, i: number): Stamp {
  const at = i * STAT_ROW + 1;
  return {
    dev: rows[at] as number,
    ino: rows[at + 1] as number,
    size: rows[at + 2] as number,
    mtimeMs: rows[at + 3] as number,
    ctimeMs: rows[at + 4] as number,
  };
}

function kindOfMode(mode: number): number {
  const type = mode & constants.S_IFMT;
  return type === constants.S_IFREG ? StatKind.file : type === constants.S_IFLNK ? StatKind.symlink : StatKind.other;
}

function stampStats(out: Float64Array, at: number, st: Stats): void {
  out[at] = st.dev;
  out[at + 1] = st.ino;
  out[at + 2] = st.size;
  out[at + 3] = st.mtimeMs;
  out[at + 4] = st.ctimeMs;
}
