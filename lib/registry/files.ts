import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from "node:fs";
import { lstat, open } from "node:fs/promises";
import { nodeCrypto } from "@/lib/lazy-builtins";
import { FILE_CACHE_ENTRIES, setBounded } from "./bounded";

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

/** What identifies a file's content while it is unchanged (see identityOf). */
export type Stamp = Pick<Stats, "dev" | "ino" | "size" | "mtimeMs" | "ctimeMs">;

/**
 * Reads a whole small regular file (no links, capped size) and the stamp of the descriptor it was read
 * through. Throws errno-style errors (ETOOLARGE above the cap, ENOTREG for anything but a regular file).
 */
export function readSmallFileSync(path: string, maxBytes: number): { bytes: Buffer; stamp: Stamp } {
  return withRegularFd(path, (fd, st) => {
    // A plain object of five numbers: it is cloned to a worker's caller and kept by caches.
    const stamp: Stamp = { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
    if (stamp.size > maxBytes) throw Object.assign(new Error("too large"), { code: "ETOOLARGE" });
    const buf = Buffer.allocUnsafe(stamp.size);
    let off = 0;
    while (off < stamp.size) {
      const n = readSync(fd, buf, off, stamp.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return { bytes: buf.subarray(0, off), stamp };
  });
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
