// joblib's file containers: detection by magic bytes (as joblib/numpy_pickle_utils._detect_compressor
// does) and bounded decompression. zlib/gzip go through node:zlib; the rest are our own decoders.
import zlib from "node:zlib";
import { BoundedOutput, DecodeError, OutputLimitError } from "./decoders/bounded-output";
import { decodeBzip2 } from "./decoders/bzip2";
import { decodeLz4 } from "./decoders/lz4";
import { decodeLzmaAlone, decodeXz } from "./decoders/xz";
import { OPCODE_BY_BYTE } from "./opcodes";
import { type ContainerKind, InspectFailure, type InspectLimits } from "./types";

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

// Order matters and mirrors joblib: legacy "ZF" first, then its registered compressors.
const PREFIXES: readonly [ContainerKind, readonly number[]][] = [
  ["legacy-zf", [0x5a, 0x46]],
  ["zlib", [0x78]],
  ["gzip", [0x1f, 0x8b]],
  ["bz2", [0x42, 0x5a]],
  ["lzma", [0x5d, 0x00]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a]],
  ["lz4", [0x04, 0x22, 0x4d, 0x18]],
];

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/**
 * Names the container by its first bytes. Pure. Anything joblib would not treat as compressed is
 * "none" when it starts with a pickle opcode, otherwise "unknown".
 */
export function detectContainer(bytes: Uint8Array): ContainerKind {
  for (const [kind, prefix] of PREFIXES) if (startsWith(bytes, prefix)) return kind;
  const first = bytes[0];
  if (first !== undefined && OPCODE_BY_BYTE[first] !== undefined) return "none";
  return "unknown";
}

/** True for a NumPy .npy file (the companion format of pre-0.10 joblib dumps). Pure. */
export function isNpyFile(bytes: Uint8Array): boolean {
  return startsWith(bytes, NPY_MAGIC);
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / (1024 * 1024)) * 10) / 10} MiB`;
  if (n >= 1024) return `${Math.round((n / 1024) * 10) / 10} KiB`;
  return `${n} bytes`;
}

/** The output cap for one input: the hard size cap, tightened by the ratio cap above its floor. Pure. */
export function outputCap(compressedSize: number, limits: InspectLimits): { cap: number; message: string } {
  const byRatio = Math.max(limits.ratioFloorBytes, compressedSize * limits.maxCompressionRatio);
  if (byRatio < limits.maxDecompressedBytes) {
    return {
      cap: Math.floor(byRatio),
      message: `decompression refused: output passed ${formatBytes(Math.floor(byRatio))}, more than ${limits.maxCompressionRatio}x the ${formatBytes(compressedSize)} input (compression-ratio cap)`,
    };
  }
  return {
    cap: Math.floor(limits.maxDecompressedBytes),
    message: `decompression refused: output passed the ${formatBytes(limits.maxDecompressedBytes)} size cap`,
  };
}

type ZlibInfo = { buffer: Buffer; engine: { bytesWritten: number } };

function inflateWithNode(bytes: Uint8Array, kind: "zlib" | "gzip", cap: number, capMessage: string): Uint8Array {
  const options = { maxOutputLength: Math.max(1, cap), info: true };
  let result: ZlibInfo;
  try {
    // With info: true node returns the engine too; bytesWritten is the compressed input consumed.
    const run = (kind === "zlib" ? zlib.inflateSync : zlib.gunzipSync) as unknown as (b: Uint8Array, o: typeof options) => ZlibInfo;
    result = run(bytes, options);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") throw new OutputLimitError(capMessage);
    throw new DecodeError(`${kind} data is corrupt (${(error as Error).message})`);
  }
  if (result.engine.bytesWritten < bytes.length) {
    throw new DecodeError(`${bytes.length - result.engine.bytesWritten} trailing bytes after the ${kind} stream`);
  }
  return new Uint8Array(result.buffer.buffer, result.buffer.byteOffset, result.buffer.byteLength);
}

/**
 * Decompresses a container into the raw pickle stream. Pure (allocates at most the cap).
 * Throws InspectFailure ("malformed") on corrupt data and when a cap is hit.
 */
export function decompress(bytes: Uint8Array, kind: ContainerKind, limits: InspectLimits): Uint8Array {
  if (kind === "none") return bytes;
  const { cap, message } = outputCap(bytes.length, limits);
  try {
    if (kind === "zlib" || kind === "gzip") return inflateWithNode(bytes, kind, cap, message);
    const out = new BoundedOutput(cap, bytes.length * 4 + 4096, message);
    if (kind === "bz2") decodeBzip2(bytes, out);
    else if (kind === "lzma") decodeLzmaAlone(bytes, out);
    else if (kind === "xz") decodeXz(bytes, out);
    else if (kind === "lz4") decodeLz4(bytes, out);
    else throw new InspectFailure(`cannot decompress a ${kind} container`, "unsupported");
    return out.result();
  } catch (error) {
    if (error instanceof OutputLimitError) throw new InspectFailure(error.message);
    if (error instanceof DecodeError) throw new InspectFailure(`${kind} container is corrupt: ${error.message}`);
    throw error;
  }
}
