import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from "node:fs";
import { lstat, open } from "node:fs/promises";
import { nodeCrypto } from "@/lib/lazy-builtins";
import { FILE_CACHE_ENTRIES, setBounded } from "./bounded";

/** Per name in lstatNames' result: the file's kind, then its stamp (dev, ino, size, mtimeMs, ctimeMs). */
export const STAT_ROW = 6;
/** Kinds in lstatNames' result. */
export const StatKind = { missing: 0, file: 1, symlink: 2, other: 3, unreadable: 4 } as const;

/** Metrics files above this are refused unread: a training job never writes one this big. */
export const MAX_METRICS_BYTES = 4 * 1024 * 1024;
const CHUNK = 1024 * 1024;
// O_NONBLOCK: opening a FIFO for reading must not hang waiting for a writer.
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export type FileCheck =
  | { ok: true; stats: Stats }
  | { ok: false; code: "missing" | "symlink" | "not_regular_file" | "unreadable"; message: string };

/** lstat without following links; says plainly why a path is not a usable regular file. */
export function checkRegularFileSync(path: string): FileCheck {
  let stats: Stats | undefined;
  try {
    stats = lstatSync(path, { throwIfNoEntry: false });
  } catch (e) {
    return { ok: false, code: "unreadable", message: `Cannot read file (${(e as NodeJS.ErrnoException).code ?? "error"}).` };
  }
  if (!stats) return { ok: false, code: "missing", message: "File does not exist." };
  return classify(stats);
}

/** The async twin of checkRegularFileSync. */
export async function checkRegularFile(path: string): Promise<FileCheck> {
  try {
    return classify(await lstat(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { ok: false, code: "missing", message: "File does not exist." };
    return { ok: false, code: "unreadable", message: `Cannot read file (${code ?? "error"}).` };
  }
}

function classify(stats: Stats): FileCheck {
  if (stats.isSymbolicLink()) {
    return { ok: false, code: "symlink", message: "Is a symbolic link: versions must be regular files, never links." };
  }
  if (!stats.isFile()) {
    return { ok: false, code: "not_regular_file", message: `Is not a regular file (${kindOf(stats)}).` };
  }
  return { ok: true, stats };
}

/** A non-regular file's kind in words ("a directory", "a named pipe"...), for messages. */
export function kindOf(s: Stats): string {
  if (s.isDirectory()) return "a directory";
  if (s.isFIFO()) return "a named pipe";
  if (s.isSocket()) return "a socket";
  if (s.isCharacterDevice() || s.isBlockDevice()) return "a device";
  return "not a file";
}

/**
 * Opens a path for reading without following a symlink and refusing anything but a regular file.
 * The checks run on the opened descriptor, so a swap between check and open cannot trick us.
 */
export async function openRegular(path: string) {
  const fh = await open(path, READ_FLAGS);
  const stats = await fh.stat();
  if (!stats.isFile()) {
    await fh.close();
    throw Object.assign(new Error("not a regular file"), { code: "ENOTREG" });
  }
  return { fh, stats };
}

/** Runs `fn` on a descriptor opened like openRegular (no links, regular files only), then closes it. */
function withRegularFd<T>(path: string, fn: (fd: number, stats: Stats) => T): T {
  const fd = openSync(path, READ_FLAGS);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw Object.assign(new Error("not a regular file"), { code: "ENOTREG" });
    return fn(fd, stats);
  } finally {
    closeSync(fd);
  }
}

// One row for readSmallFileSync's stat, reused: it is read into a Stamp before anything else runs.
const scratchRow = new Float64Array(STAT_ROW);

/** What identifies a file's content while it is unchanged (see identityOf). */
export type Stamp = Pick<Stats, "dev" | "ino" | "size" | "mtimeMs" | "ctimeMs">;

/**
 * Reads a whole small regular file (no links, capped size) and the stamp of the descriptor it was read
 * through. Throws errno-style errors (ETOOLARGE above the cap, ENOTREG for anything but a regular file).
 */
export function readSmallFileSync(path: string, maxBytes: number): { bytes: Buffer; stamp: Stamp } {
  const fd = openSync(path, READ_FLAGS);
  try {
    const row = scratchRow;
    const st = fstatSync(fd);
    row[0] = kindOfMode(st.mode);
    stampStats(row, 1, st);
    if (row[0] !== StatKind.file) throw Object.assign(new Error("not a regular file"), { code: "ENOTREG" });
    const stamp = stampAt(row, 0);
    if (stamp.size > maxBytes) throw Object.assign(new Error("too large"), { code: "ETOOLARGE" });
    const buf = Buffer.allocUnsafe(stamp.size);
    let off = 0;
    while (off < stamp.size) {
      const n = readSync(fd, buf, off, stamp.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return { bytes: buf.subarray(0, off), stamp };
  } finally {
    closeSync(fd);
  }
}

/** A file's stat identity: while it is unchanged, so is the content (for our purposes: versions are never rewritten in place silently). */
export function identityOf(s: Pick<Stats, "dev" | "ino" | "size" | "mtimeMs" | "ctimeMs">): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}

// File systems stamp changes with a coarse clock: a write landing in the same tick as the one before it
// leaves mtime and ctime as they were. So what was read from a file is remembered by its identity only when
// the file had been still for a while before the read began (git's "racily clean" rule). A file written
// moments ago is simply read again next time.
const SETTLED_MS = 1000;

/** True when what was read from a file starting at `readStartedMs` may be cached under its identity. */
export function settledAt(s: Pick<Stats, "mtimeMs" | "ctimeMs">, readStartedMs: number): boolean {
  return readStartedMs - Math.max(s.mtimeMs, s.ctimeMs) > SETTLED_MS;
}

// sha256 by stat identity: hard links to one file are hashed once, and nothing is re-read while unchanged.
const hashes = new Map<string, string>();

/** sha256 of a regular file, reusing an earlier hash while its stat identity is unchanged. Never follows a symlink. */
export function hashFileSync(path: string, stats?: Stats): string {
  const known = stats ? hashes.get(identityOf(stats)) : undefined;
  if (known) return known;
  const started = Date.now();
  return withRegularFd(path, (fd, opened) => {
    const id = identityOf(opened);
    const cached = hashes.get(id);
    if (cached) return cached;
    const hash = nodeCrypto().createHash("sha256");
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(opened.size, 1)));
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
    const sha256 = hash.digest("hex");
    if (settledAt(opened, started)) setBounded(hashes, id, sha256, FILE_CACHE_ENTRIES);
    return sha256;
  });
}

/** The async form used on write paths (large files are read in chunks without blocking the event loop). */
export async function hashFile(path: string, stats?: Stats): Promise<string> {
  const st = stats ?? (await lstat(path));
  const known = hashes.get(identityOf(st));
  if (known) return known;
  const started = Date.now();
  const { fh, stats: opened } = await openRegular(path);
  try {
    const hash = nodeCrypto().createHash("sha256");
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
    const sha256 = hash.digest("hex");
    if (settledAt(opened, started)) setBounded(hashes, identityOf(opened), sha256, FILE_CACHE_ENTRIES);
    return sha256;
  } finally {
    await fh.close();
  }
}

/** The sha256 remembered for these exact stats (same file, unchanged since it was hashed), if any. */
export function knownHash(stats: Stats): string | undefined {
  return hashes.get(identityOf(stats));
}

/** Teaches the hash cache a sha256 learned elsewhere (the CLI's scan memo), for the stats it holds for. */
export const hashCache = {
  set: (identity: string, sha256: string) => setBounded(hashes, identity, sha256, FILE_CACHE_ENTRIES),
};

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
