import { createHash } from "node:crypto";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { decompress, detectContainer, outputCap } from "./containers";
import { BoundedOutput, DecodeError } from "./decoders/bounded-output";
import { decodeBzip2 } from "./decoders/bzip2";
import { crc32, crc64, xxh32 } from "./decoders/checksums";
import { decodeLz4 } from "./decoders/lz4";
import { decodeLzmaAlone, decodeXz } from "./decoders/xz";
import { inspectBytes } from "./inspect";
import { lz4Frame, readTestdata, zlibZeroBomb } from "./test-support/fixtures";
import testdata from "./testdata/testdata.json";
import { InspectFailure, resolveLimits } from "./types";

const corpus = readTestdata("corpus.bin");
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const roomy = resolveLimits({ maxCompressionRatio: 1e9 });

function decodeWith(decoder: (src: Uint8Array, out: BoundedOutput) => void, src: Uint8Array, cap = 64 << 20): Uint8Array {
  const out = new BoundedOutput(cap, 1024, "cap");
  decoder(src, out);
  return out.result();
}

describe("decoders reproduce what CPython's compressors wrote", () => {
  it("has the corpus the generator described", () => {
    expect(corpus.length).toBe(testdata.corpus_size);
    expect(sha256(corpus)).toBe(testdata.corpus_sha256);
  });

  const cases: [string, (src: Uint8Array, out: BoundedOutput) => void][] = [
    ["corpus-9.bz2", decodeBzip2],
    ["corpus-1.bz2", decodeBzip2],
    ["corpus-concat.bz2", decodeBzip2],
    ["corpus.lzma", decodeLzmaAlone],
    ["corpus-lp2.lzma", decodeLzmaAlone],
    ["corpus-crc64.xz", decodeXz],
    ["corpus-crc32.xz", decodeXz],
    ["corpus-sha256.xz", decodeXz],
    ["corpus-none.xz", decodeXz],
    ["corpus-concat.xz", decodeXz],
  ];
  for (const [name, decoder] of cases) {
    it(`decodes ${name}`, () => {
      expect(sha256(decodeWith(decoder, readTestdata(name)))).toBe(testdata.corpus_sha256);
    });
  }

  it("decodes LZ4 frames, literal-only and real ones", () => {
    expect(sha256(decodeWith(decodeLz4, lz4Frame(corpus)))).toBe(testdata.corpus_sha256);
    const twoFrames = new Uint8Array([...lz4Frame(corpus.subarray(0, 1000)), ...lz4Frame(corpus.subarray(1000))]);
    expect(sha256(decodeWith(decodeLz4, twoFrames))).toBe(testdata.corpus_sha256);
  });

  it("detects corruption through the containers' checksums", () => {
    for (const [name, decoder] of cases) {
      const bytes = readTestdata(name).slice();
      bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
      expect(() => decodeWith(decoder, bytes), name).toThrow(DecodeError);
    }
    const frame = lz4Frame(corpus);
    frame[frame.length - 10]! ^= 0x01;
    expect(() => decodeWith(decodeLz4, frame)).toThrow(/checksum/);
  });

  it("refuses trailing garbage after a compressed stream", () => {
    const withJunk = (name: string) => new Uint8Array([...readTestdata(name), 1, 2, 3]);
    expect(() => decodeWith(decodeBzip2, withJunk("corpus-9.bz2"))).toThrow(DecodeError);
    expect(() => decodeWith(decodeLzmaAlone, withJunk("corpus.lzma"))).toThrow(/trailing/);
    expect(() => decodeWith(decodeXz, withJunk("corpus-crc64.xz"))).toThrow(DecodeError);
    expect(() => decodeWith(decodeLz4, new Uint8Array([...lz4Frame(corpus), 9]))).toThrow(DecodeError);
    const zlibJunk = new Uint8Array([...zlib.deflateSync(corpus), 0]);
    expect(() => decompress(zlibJunk, "zlib", roomy)).toThrow(/trailing bytes after the zlib stream/);
  });

  it("implements the checksums byte-exactly", () => {
    const check = new TextEncoder().encode("123456789");
    expect(crc32(check)).toBe(0xcbf43926);
    expect(Buffer.from(crc64(check)).toString("hex")).toBe("fa3919dfbbc95d99"); // 0x995DC9BBDF1939FA, little-endian
    expect(xxh32(new Uint8Array(0))).toBe(0x02cc5d05);
    expect(xxh32(check)).toBe(0x937bad67);
  });
});

describe("container detection", () => {
  it("follows joblib's magic prefixes", () => {
    const k = (...bytes: number[]) => detectContainer(Uint8Array.from(bytes));
    expect(k(0x78, 0x9c)).toBe("zlib");
    expect(k(0x1f, 0x8b)).toBe("gzip");
    expect(k(0x42, 0x5a, 0x68)).toBe("bz2");
    expect(k(0x5d, 0x00, 0x00)).toBe("lzma");
    expect(k(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)).toBe("xz");
    expect(k(0x04, 0x22, 0x4d, 0x18)).toBe("lz4");
    expect(k(0x5a, 0x46)).toBe("legacy-zf");
    expect(k(0x80, 0x04)).toBe("none");
    expect(k(0x28)).toBe("none"); // protocol 0 starts with an opcode such as MARK
    expect(k(0x00)).toBe("unknown");
  });

  it("calls a corrupt zlib header malformed", () => {
    const report = inspectBytes(Uint8Array.from([0x78, 0x00, 1, 2, 3]));
    expect(report).toMatchObject({ verdict: "malformed", container: "zlib", decompressedSize: null });
  });
});

describe("decompression bombs", () => {
  // Refused at a cap, with nothing inflated past it (no decompressed size): what a person waits for is the
  // verdict; how fast it comes is npm run bench's business, never a timed test's.
  function refusedFast(bytes: Uint8Array, limits?: Parameters<typeof inspectBytes>[1]) {
    const report = inspectBytes(bytes, limits);
    expect(report.verdict).toBe("malformed");
    expect(report.decompressedSize).toBeNull();
    return report;
  }

  it("refuses a 785-byte bz2 of 1 GiB of zeros at the default ratio cap, without decoding it all", () => {
    const report = refusedFast(readTestdata("bomb-1gib.bz2"));
    expect(report.reason).toMatch(/compression-ratio cap/);
    expect(report.container).toBe("bz2");
  });

  it("refuses xz, lzma and lz4 bombs at the default ratio cap", () => {
    expect(refusedFast(readTestdata("bomb-256mib.xz")).reason).toMatch(/compression-ratio cap/);
    expect(refusedFast(readTestdata("bomb-256mib.lzma")).reason).toMatch(/compression-ratio cap/);
    expect(refusedFast(lz4Frame(new Uint8Array(0), { zeroBlocks: 4 })).reason).toMatch(/compression-ratio cap/);
  });

  it("refuses a ~1 MiB zlib stream of 1 GiB of zeros at the ratio cap, and at the size cap when ratio is lifted", () => {
    const bomb = zlibZeroBomb(128);
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    expect(refusedFast(bomb).reason).toMatch(/compression-ratio cap/);
    expect(refusedFast(bomb, { maxCompressionRatio: 1e9, maxDecompressedBytes: 64 << 20 }).reason).toMatch(/64 MiB size cap/);
  });

  it("refuses a bz2 bomb at a lowered size cap, whatever the ratio", () => {
    const report = refusedFast(readTestdata("bomb-1gib.bz2"), { maxCompressionRatio: 1e12, maxDecompressedBytes: 32 << 20 });
    expect(report.reason).toMatch(/32 MiB size cap/);
  });

  it("leaves small files alone below the ratio floor", () => {
    // 1 MiB of zeros compresses about 1000x, but stays under the 1 MiB floor.
    const small = zlib.deflateSync(Buffer.alloc(1024 * 1024 - 1));
    expect(decompress(new Uint8Array(small), "zlib", resolveLimits()).length).toBe(1024 * 1024 - 1);
  });

  it("computes the cap from both limits", () => {
    const limits = resolveLimits();
    expect(outputCap(100, limits).cap).toBe(1024 * 1024);
    expect(outputCap(10 * 1024 * 1024, limits).cap).toBe(512 * 1024 * 1024);
    expect(outputCap(1024 * 1024, limits).cap).toBe(200 * 1024 * 1024);
    expect(() => decompress(readTestdata("bomb-256mib.xz"), "xz", limits)).toThrow(InspectFailure);
  });
});
