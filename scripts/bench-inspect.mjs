#!/usr/bin/env node
// Throughput of the static joblib inspector (lib/inspect), in MB/s of joblib input.
//
//   node scripts/bench-inspect.mjs [--mb 256] [--runs 5]
//
// Bundles lib/inspect/index.ts (lib/inspect/tools/load-inspector.mjs), builds
// synthetic joblib streams in memory and times inspectBytes on them, uncompressed and zlib/gzip:
//   - array-heavy: the typical model shape, one big float64 array written inline by joblib;
//   - opcode-heavy: a worst case, millions of small strings/ints/floats and no arrays;
//   - real fixture: the 5 KB sklearn pipeline from the test corpus, inspected repeatedly.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { loadInspector } from "../lib/inspect/tools/load-inspector.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const arrayMb = option("mb", 256);
const runs = option("runs", 5);

const { inspectBytes } = await loadInspector();

/** Minimal pickle writer (opcodes as bytes), enough for the synthetic streams. */
class Writer {
  constructor(size) {
    this.buf = Buffer.alloc(size);
    this.at = 0;
  }
  byte(...bs) {
    for (const b of bs) this.buf[this.at++] = b;
    return this;
  }
  u32(n) {
    this.buf.writeUInt32LE(n >>> 0, this.at);
    this.at += 4;
    return this;
  }
  u64(n) {
    this.buf.writeBigUInt64LE(BigInt(n), this.at);
    this.at += 8;
    return this;
  }
  str(text) {
    const bytes = Buffer.from(text, "utf8");
    this.byte(0x8c, bytes.length);
    bytes.copy(this.buf, this.at);
    this.at += bytes.length;
    return this;
  }
  stackGlobal(module, name) {
    return this.str(module).str(name).byte(0x93);
  }
  bytes() {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.at);
  }
}

/** {"model": <float64 array of n items>, "cat_cols": [...], "num_cols": [...]} as joblib writes it. */
function arrayHeavy(n) {
  const w = new Writer(n * 8 + 4096);
  w.byte(0x80, 4, 0x7d, 0x28).str("model"); // PROTO 4, EMPTY_DICT, MARK
  w.stackGlobal("joblib.numpy_pickle", "NumpyArrayWrapper").byte(0x29, 0x81, 0x7d, 0x28); // ) NEWOBJ } (
  w.str("subclass").stackGlobal("numpy", "ndarray");
  w.str("shape").byte(0x4a).u32(n).byte(0x85); // BININT n, TUPLE1
  w.str("order").str("C").str("dtype");
  w.stackGlobal("numpy", "dtype").str("f8").byte(0x89, 0x88, 0x87, 0x52); // False True TUPLE3 REDUCE
  w.byte(0x28, 0x4b, 3).str("<").byte(0x4e, 0x4e, 0x4e, 0x4a).u32(-1).byte(0x4a).u32(-1).byte(0x4b, 0, 0x74, 0x62); // state, BUILD
  w.str("allow_mmap").byte(0x89).str("numpy_array_alignment_bytes").byte(0x4b, 16);
  w.byte(0x75, 0x62); // SETITEMS BUILD -> array bytes follow
  const padding = 16 - ((w.at + 1) % 16);
  w.byte(padding);
  for (let i = 0; i < padding; i++) w.byte(0xff);
  let seed = 1;
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    w.buf.writeDoubleLE(seed / 7.3, w.at); // varied values: zlib cannot shrink them to nothing
    w.at += 8;
  }
  w.str("cat_cols").byte(0x5d, 0x28).str("plan").str("region").byte(0x65);
  w.str("num_cols").byte(0x5d, 0x28).str("tenure_days").byte(0x65);
  return w.byte(0x75, 0x2e).bytes(); // SETITEMS STOP
}

/** A list of `n` (str, int, float) tuples: every few bytes is an opcode. */
function opcodeHeavy(n) {
  const w = new Writer(n * 40 + 64);
  w.byte(0x80, 4, 0x5d, 0x28); // PROTO 4, EMPTY_LIST, MARK
  for (let i = 0; i < n; i++) {
    w.str(`feature_${i % 1000}`)
      .byte(0x4a)
      .u32(i)
      .byte(0x47);
    w.buf.writeDoubleBE(i / 3, w.at);
    w.at += 8;
    w.byte(0x87); // TUPLE3
    if (i % 1000 === 999) w.byte(0x65, 0x28); // APPENDS, MARK: keep the mark stack shallow
  }
  return w.byte(0x65, 0x2e).bytes();
}

function time(bytes) {
  let best = Number.POSITIVE_INFINITY;
  let report;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    report = inspectBytes(bytes, { maxDecompressedBytes: 2 ** 31, maxCompressionRatio: 1e9, maxFileBytes: 2 ** 31 });
    best = Math.min(best, performance.now() - started);
  }
  return { best, report };
}

function row(label, bytes) {
  const { best, report } = time(bytes);
  const mbps = bytes.length / 1e6 / (best / 1000);
  const raw = report.decompressedSize ?? bytes.length;
  console.log(
    `${label.padEnd(34)} ${(bytes.length / 1e6).toFixed(1).padStart(8)} MB  ${best.toFixed(1).padStart(9)} ms  ${mbps.toFixed(0).padStart(7)} MB/s in  ${(raw / 1e6 / (best / 1000)).toFixed(0).padStart(7)} MB/s out  ${report.verdict}`,
  );
  if (report.verdict !== "safe") throw new Error(`${label}: expected a safe verdict, got ${report.reason}`);
}

console.log(`node ${process.version}, best of ${runs} runs\n`);
const big = arrayHeavy(Math.floor((arrayMb * 1e6) / 8));
row("array-heavy, uncompressed", big);
row("array-heavy, zlib level 3", zlib.deflateSync(big, { level: 3 }));
row("array-heavy, gzip level 3", zlib.gzipSync(big, { level: 3 }));
const dense = opcodeHeavy(1_000_000);
row("opcode-heavy, uncompressed", dense);
row("opcode-heavy, zlib level 3", zlib.deflateSync(dense, { level: 3 }));

const fixtureDir = path.resolve(root, "fixtures/registry-basic/artifacts/models");
try {
  const fixture = new Uint8Array(readFileSync(path.join(fixtureDir, "candidate_logreg_20251007T110000Z.joblib")));
  const zipped = new Uint8Array(readFileSync(path.join(fixtureDir, "baseline_logreg_20250211T143000Z.joblib")));
  const repeat = (bytes, times) => {
    for (let i = 0; i < 200; i++) inspectBytes(bytes); // warm up
    const started = performance.now();
    for (let i = 0; i < times; i++) inspectBytes(bytes);
    const ms = (performance.now() - started) / times;
    console.log(
      `${`real fixture (${bytes.length} B), per file`.padEnd(34)} ${(ms * 1000).toFixed(0).padStart(8)} us  ${(bytes.length / 1e6 / (ms / 1000)).toFixed(0).padStart(12)} MB/s in`,
    );
  };
  repeat(fixture, 5000);
  repeat(zipped, 5000);
} catch (error) {
  console.log(`(real fixtures not found: ${error.message})`);
}

// The generated models (lib/inspect/tools/gen-allowlist.py): every scikit-learn estimator, churn pipelines
// and XGBoost, as joblib writes them. GEN_DIR=/tmp/gen uses a full generator run (its models/ folder);
// without it, the compact committed set. Each file is inspected once per round; best round counts.
{
  const genDir = process.env.GEN_DIR ? path.join(process.env.GEN_DIR, "models") : path.resolve(root, "lib/inspect/testdata/generated");
  const { readdirSync } = await import("node:fs");
  const files = readdirSync(genDir)
    .filter((f) => f.endsWith(".joblib"))
    .map((f) => new Uint8Array(readFileSync(path.join(genDir, f))));
  const total = files.reduce((n, b) => n + b.length, 0);
  let best = Number.POSITIVE_INFINITY;
  let unsafe = 0;
  for (let round = 0; round < runs + 1; round++) {
    const started = performance.now();
    unsafe = 0;
    for (const bytes of files) if (inspectBytes(bytes).verdict !== "safe") unsafe++;
    if (round > 0) best = Math.min(best, performance.now() - started);
  }
  console.log(
    `${`generated models (${files.length} files)`.padEnd(34)} ${(total / 1e6).toFixed(1).padStart(8)} MB  ${best.toFixed(1).padStart(9)} ms  ${(total / 1e6 / (best / 1000)).toFixed(0).padStart(7)} MB/s in  ${((files.length / best) * 1000).toFixed(0)} files/s  ${unsafe} not safe`,
  );
}
