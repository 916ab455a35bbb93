import { createHash } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { lstat, open } from "node:fs/promises";

/** Metrics files above this are refused unread: a training job never writes one this big. */
export const MAX_METRICS_BYTES = 4 * 1024 * 1024;
const CHUNK = 1024 * 1024;

export type FileCheck =
  | { ok: true; stats: Stats }
  | { ok: false; code: "missing" | "symlink" | "not_regular_file" | "unreadable"; message: string };

/** lstat without following links; says plainly why a path is not a usable regular file. */
export async function checkRegularFile(path: string): Promise<FileCheck> {
  let stats: Stats;
  try {
    stats = await lstat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { ok: false, code: "missing", message: "File does not exist." };
    return { ok: false, code: "unreadable", message: `Cannot read file (${code ?? "error"}).` };
  }
  if (stats.isSymbolicLink()) {
    return { ok: false, code: "symlink", message: "Is a symbolic link: versions must be regular files, never links." };
  }
  if (!stats.isFile()) {
    return { ok: false, code: "not_regular_file", message: `Is not a regular file (${kindOf(stats)}).` };
  }
  return { ok: true, stats };
}

function kindOf(s: Stats): string {
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
  // O_NONBLOCK: opening a FIFO for reading must not hang waiting for a writer.
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  const stats = await fh.stat();
  if (!stats.isFile()) {
    await fh.close();
    throw Object.assign(new Error("not a regular file"), { code: "ENOTREG" });
  }
  return { fh, stats };
}

/** Reads a whole small regular file (no links, capped size). Throws errno-style errors. */
export async function readSmallFile(path: string, maxBytes: number): Promise<Buffer> {
  const { fh, stats } = await openRegular(path);
  try {
    if (stats.size > maxBytes) throw Object.assign(new Error("too large"), { code: "ETOOLARGE" });
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

interface CachedHash {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  sha256: string;
}
// Hashes keyed by path and trusted only while the file's stat identity is unchanged.
const hashCache = new Map<string, CachedHash>();

/** True when a cached hash is still valid for these stats. */
function sameIdentity(c: CachedHash, s: Stats): boolean {
  return c.dev === s.dev && c.ino === s.ino && c.size === s.size && c.mtimeMs === s.mtimeMs && c.ctimeMs === s.ctimeMs;
}

/**
 * sha256 of a regular file, reusing an earlier hash while (dev, inode, size, mtime, ctime) are unchanged.
 * Reads the file only on a cache miss; never follows a symlink.
 */
export async function hashFile(path: string, stats?: Stats): Promise<string> {
  const st = stats ?? (await lstat(path));
  const cached = hashCache.get(path);
  if (cached && sameIdentity(cached, st)) return cached.sha256;
  const { fh, stats: opened } = await openRegular(path);
  try {
    const hash = createHash("sha256");
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
    const sha256 = hash.digest("hex");
    hashCache.set(path, {
      dev: opened.dev,
      ino: opened.ino,
      size: opened.size,
      mtimeMs: opened.mtimeMs,
      ctimeMs: opened.ctimeMs,
      sha256,
    });
    return sha256;
  } finally {
    await fh.close();
  }
}

/** Exposes the in-process hash cache for a persistent cache to load and save (see hash-store). */
export const hashCacheEntries = {
  all: () => hashCache.entries(),
  set: (path: string, entry: CachedHash) => hashCache.set(path, entry),
};
export type { CachedHash };
