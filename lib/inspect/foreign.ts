// Files joblib never writes, that people still upload as models: a zip archive (PyTorch's format, its
// pickle in data.pkl), a NumPy .npy of Python objects (a pickle after the header), or pickles written one
// after another. They are refused whatever they hold; this module only reads their pickles' imports so
// the refusal can name them. Pure functions over bytes; nothing is ever unpickled.
import zlib from "node:zlib";
import { outputCap } from "./containers";
import { type MachineShared, PickleError, PickleMachine } from "./pickle-machine";
import type { InspectLimits } from "./types";

/** What a foreign container's pickles were found to be, for the report's reason. */
export interface ForeignFinding {
  /** e.g. "a zip archive (PyTorch-style) with 1 pickle (archive/data.pkl)". */
  what: string;
  /** Pickles scanned; their globals are in `shared`. */
  pickles: number;
  /** Why a pickle could not be read to its end, if one could not. */
  problem: string | null;
}

const ZIP_LOCAL = 0x04034b50;
const ZIP_CENTRAL = 0x02014b50;
const ZIP_END = 0x06054b50;
const MAX_ZIP_ENTRIES = 10_000;
const MAX_PICKLES = 16;

function u16(b: Uint8Array, at: number): number {
  return (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
}

function u32(b: Uint8Array, at: number): number {
  return (u16(b, at) | (u16(b, at + 2) << 16)) >>> 0;
}

/** True for a zip archive (a local file header or an empty archive's end record first). Pure. */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && (u32(bytes, 0) === ZIP_LOCAL || u32(bytes, 0) === ZIP_END);
}

/** Runs one pickle (not joblib's: no inline arrays) from `start`; returns its end or a problem. */
function scanPickle(view: Uint8Array, start: number, shared: MachineShared, persistentIds: boolean): { end: number } | { problem: string } {
  const machine = new PickleMachine(view, start, shared, false, persistentIds);
  try {
    return { end: machine.run().end };
  } catch (error) {
    if (!(error instanceof PickleError)) throw error;
    return { problem: error.message };
  }
}

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  localOffset: number;
}

/** The central directory's entries, or a reason it cannot be read. Pure; bounded by MAX_ZIP_ENTRIES. */
function zipEntries(bytes: Uint8Array): ZipEntry[] | string {
  let end = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at--) {
    if (u32(bytes, at) === ZIP_END) {
      end = at;
      break;
    }
  }
  if (end < 0) return "no end of central directory record";
  const count = u16(bytes, end + 10);
  let at = u32(bytes, end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < Math.min(count, MAX_ZIP_ENTRIES); i++) {
    if (at + 46 > bytes.length || u32(bytes, at) !== ZIP_CENTRAL) return "a central directory entry is out of bounds";
    const nameLength = u16(bytes, at + 28);
    const name = new TextDecoder("utf-8", { fatal: false }).decode(bytes.subarray(at + 46, at + 46 + nameLength));
    entries.push({ name, method: u16(bytes, at + 10), compressedSize: u32(bytes, at + 20), localOffset: u32(bytes, at + 42) });
    at += 46 + nameLength + u16(bytes, at + 30) + u16(bytes, at + 32);
  }
  return entries;
}

/** The stored or deflated bytes of one entry, bounded by the decompression caps; or why not. */
function entryData(bytes: Uint8Array, entry: ZipEntry, limits: InspectLimits): Uint8Array | string {
  const at = entry.localOffset;
  if (at + 30 > bytes.length || u32(bytes, at) !== ZIP_LOCAL) return "its local header is out of bounds";
  const start = at + 30 + u16(bytes, at + 26) + u16(bytes, at + 28);
  if (entry.compressedSize === 0xffffffff || start + entry.compressedSize > bytes.length) return "its data is out of bounds (or zip64)";
  const data = bytes.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) return data;
  if (entry.method !== 8) return `compression method ${entry.method} is not read`;
  const { cap } = outputCap(data.length, limits);
  try {
    const out = zlib.inflateRawSync(data, { maxOutputLength: Math.max(1, cap) });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    return "its deflate data is corrupt or above the size caps";
  }
}

/** A zip archive: every *.pkl member (PyTorch keeps its pickle in <name>/data.pkl) is scanned. */
export function scanZip(bytes: Uint8Array, shared: MachineShared): ForeignFinding {
  const entries = zipEntries(bytes);
  if (typeof entries === "string") return { what: "a zip archive", pickles: 0, problem: entries };
  const pickles = entries.filter((e) => e.name.endsWith(".pkl")).slice(0, MAX_PICKLES);
  const problems: string[] = [];
  for (const entry of pickles) {
    const data = entryData(bytes, entry, shared.limits);
    const outcome = typeof data === "string" ? { problem: data } : scanPickle(data, 0, shared, true);
    if ("problem" in outcome) problems.push(`${entry.name}: ${outcome.problem}`);
  }
  const names = pickles.map((e) => e.name).join(", ");
  const torch = pickles.some((e) => e.name.endsWith("data.pkl")) ? " (PyTorch-style)" : "";
  return {
    what: `a zip archive${torch} of ${entries.length} file${entries.length === 1 ? "" : "s"} with ${pickles.length} pickle${pickles.length === 1 ? "" : "s"}${names ? ` (${names})` : ""}`,
    pickles: pickles.length,
    problem: problems[0] ?? null,
  };
}

/** A .npy file: an object array's data is a pickle right after the header. */
export function scanNpy(bytes: Uint8Array, shared: MachineShared): ForeignFinding {
  const major = bytes[6] ?? 0;
  const headerLength = major >= 2 ? u32(bytes, 8) : u16(bytes, 8);
  const start = (major >= 2 ? 12 : 10) + headerLength;
  const header = new TextDecoder("latin1").decode(bytes.subarray(major >= 2 ? 12 : 10, Math.min(start, bytes.length)));
  // descr '|O' (or a structured dtype with an 'O' field) stores Python objects by pickle.
  if (!/'descr':\s*(?:'\|O'|\[.*'\|?O'.*\])/s.test(header) || start >= bytes.length) {
    return { what: "a NumPy .npy file (a companion of a legacy joblib dump)", pickles: 0, problem: null };
  }
  const outcome = scanPickle(bytes, start, shared, false);
  return {
    what: "a NumPy .npy file of Python objects, stored as a pickle",
    pickles: 1,
    problem: "problem" in outcome ? outcome.problem : null,
  };
}

/**
 * Pickles written one after another after the first one's STOP (which is all pickle.load reads): each
 * later pickle's imports are recorded too, up to MAX_PICKLES. Returns how many were found.
 */
export function scanTrailingPickles(view: Uint8Array, from: number, shared: MachineShared): number {
  let at = from;
  let found = 0;
  while (at < view.length && found < MAX_PICKLES) {
    const outcome = scanPickle(view, at, shared, false);
    found++;
    if ("problem" in outcome) break;
    at = outcome.end;
  }
  return found;
}
