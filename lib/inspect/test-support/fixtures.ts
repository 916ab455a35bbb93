// Shared test helpers: the registry-basic corpus, committed test data, seeded randomness and an
// LZ4 frame encoder (python's stdlib has no lz4, so tests build LZ4 frames themselves).
import { readFileSync } from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { xxh32 } from "../decoders/checksums";

export const FIXTURE_ROOT = path.resolve(__dirname, "../../../fixtures/registry-basic");
export const TESTDATA = path.resolve(__dirname, "../testdata");

export interface ManifestModel {
  path: string;
  joblib_compression: string;
  pickle_protocol: number;
  pickle_globals: string[];
  pickle_globals_in_nested_array_pickles: string[];
  cat_cols: string[];
  num_cols: string[];
  payload_keys: string[];
  model_class_path: string;
  final_estimator_class: string;
  pipeline_steps: string[];
  decompressed_size: number;
  scan: { numpy_arrays: number; nested_array_pickles: number };
}

interface Manifest {
  files: (ManifestModel & { kind: string })[];
  observed_benign_globals: string[];
}

let manifest: Manifest | undefined;

export function loadManifest(): Manifest {
  manifest ??= JSON.parse(readFileSync(path.join(FIXTURE_ROOT, "MANIFEST.json"), "utf8")) as Manifest;
  return manifest;
}

/** Every model file listed in MANIFEST.json. */
export function modelFixtures(): ManifestModel[] {
  return loadManifest().files.filter((f) => f.kind === "model");
}

export function readFixture(model: ManifestModel): Uint8Array {
  return new Uint8Array(readFileSync(path.join(FIXTURE_ROOT, model.path)));
}

export function readTestdata(name: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(TESTDATA, name)));
}

/** The uncompressed protocol-2 and protocol-5 fixtures. */
export function rawFixture(protocol: 2 | 4 | 5): Uint8Array {
  const model = modelFixtures().find((m) => m.joblib_compression === "none" && m.pickle_protocol === protocol);
  if (!model) throw new Error(`no uncompressed protocol ${protocol} fixture`);
  return readFixture(model);
}

/** mulberry32: small, seeded, good enough to make fuzzing reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

function lz4Length(n: number): number[] {
  const out: number[] = [];
  let rest = n;
  while (rest >= 255) {
    out.push(255);
    rest -= 255;
  }
  out.push(rest);
  return out;
}

/** One LZ4 block holding `data` as literals only (valid LZ4, no compression). */
function literalBlock(data: Uint8Array): number[] {
  const n = data.length;
  const token = Math.min(n, 15) << 4;
  return [token, ...(n >= 15 ? lz4Length(n - 15) : []), ...data];
}

/** An LZ4 block expanding to `n` zero bytes: one literal, then one long overlapping match. */
function zeroRunBlock(n: number): number[] {
  const match = n - 1;
  return [0x1f, 0x00, 0x01, 0x00, ...lz4Length(match - 4 - 15), 0x00];
}

/**
 * An LZ4 frame of `data` (literal-only blocks, content checksum on), or of `zeroBlocks`
 * 4 MiB blocks of zeros (a compression bomb) when given.
 */
export function lz4Frame(data: Uint8Array, options: { zeroBlocks?: number } = {}): Uint8Array {
  const bigBlocks = options.zeroBlocks !== undefined;
  const flg = 0x40 | 0x20 | (bigBlocks ? 0 : 0x04);
  const bd = (bigBlocks ? 7 : 4) << 4;
  const out: number[] = [0x04, 0x22, 0x4d, 0x18, flg, bd];
  out.push((xxh32(Uint8Array.from([flg, bd])) >>> 8) & 0xff);
  if (bigBlocks) {
    const block = zeroRunBlock(4 * 1024 * 1024);
    for (let i = 0; i < (options.zeroBlocks ?? 0); i++) out.push(...le32(block.length), ...block);
  } else {
    // Literal-only blocks grow slightly, and a block may not exceed the 64 KiB maximum.
    const chunk = 65536 - 512;
    for (let i = 0; i < data.length; i += chunk) {
      const block = literalBlock(data.subarray(i, Math.min(data.length, i + chunk)));
      out.push(...le32(block.length), ...block);
    }
  }
  out.push(0, 0, 0, 0);
  if (!bigBlocks) out.push(...le32(xxh32(data)));
  return Uint8Array.from(out);
}

/** The same pickle bytes in every container joblib can write (bz2/lzma/xz come from committed files). */
export function inEveryContainer(raw: Uint8Array, committed: { bz2: Uint8Array; lzma: Uint8Array; xz: Uint8Array }) {
  return {
    none: raw,
    zlib: new Uint8Array(zlib.deflateSync(raw, { level: 3 })),
    gzip: new Uint8Array(zlib.gzipSync(raw, { level: 3 })),
    bz2: committed.bz2,
    lzma: committed.lzma,
    xz: committed.xz,
    lz4: lz4Frame(raw),
  } as const;
}

/**
 * A zlib stream of `chunks` x 8 MiB of zeros built without materialising the output: sync-flushed
 * raw deflate chunks repeated, then a final empty block and the Adler-32 of all those zeros.
 */
export function zlibZeroBomb(chunks: number): Uint8Array {
  const size = 8 * 1024 * 1024;
  const chunk = zlib.deflateRawSync(Buffer.alloc(size), { finishFlush: zlib.constants.Z_SYNC_FLUSH, level: 9 });
  const total = chunks * size;
  const adlerB = total % 65521;
  const trailer = [(adlerB >>> 8) & 0xff, adlerB & 0xff, 0x00, 0x01];
  const parts: Uint8Array[] = [Uint8Array.from([0x78, 0x9c])];
  for (let i = 0; i < chunks; i++) parts.push(chunk);
  parts.push(Uint8Array.from([0x03, 0x00]), Uint8Array.from(trailer));
  return new Uint8Array(Buffer.concat(parts));
}
