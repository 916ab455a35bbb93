// bzip2 decoder following libbzip2 1.0.8's decompress.c (including its sanity checks), for
// joblib's "bz2" compressor. Block and stream CRCs are verified.
import { type BoundedOutput, DecodeError } from "./bounded-output";
import { bzipCrcUpdate } from "./checksums";

const MAX_GROUPS = 6;
const GROUP_SIZE = 50;
const MAX_ALPHA = 258;
const MAX_CODE_LEN = 23;
const MAX_SELECTORS = 18002;
const RUNA = 0;
const RUNB = 1;

class BitReader {
  private bitBuf = 0;
  private bitCount = 0;

  constructor(
    private readonly src: Uint8Array,
    public pos: number,
  ) {}

  bits(n: number): number {
    while (this.bitCount < n) {
      if (this.pos >= this.src.length) throw new DecodeError("bzip2 data is truncated");
      this.bitBuf = ((this.bitBuf << 8) | (this.src[this.pos++] as number)) >>> 0;
      this.bitCount += 8;
    }
    this.bitCount -= n;
    return (this.bitBuf >>> this.bitCount) & ((1 << n) - 1);
  }

  bit(): number {
    return this.bits(1);
  }

  /** Drops bits up to the next byte boundary (streams end byte-aligned). */
  alignToByte(): void {
    this.bitCount -= this.bitCount % 8;
    // Whole unread bytes go back to the input.
    this.pos -= this.bitCount / 8;
    this.bitCount = 0;
    this.bitBuf = 0;
  }
}

interface HuffmanGroup {
  limit: Int32Array;
  base: Int32Array;
  perm: Int32Array;
  minLen: number;
}

function makeGroup(lengths: Uint8Array, alphaSize: number): HuffmanGroup {
  let minLen = 32;
  let maxLen = 0;
  for (let i = 0; i < alphaSize; i++) {
    const len = lengths[i] as number;
    if (len > maxLen) maxLen = len;
    if (len < minLen) minLen = len;
  }
  const limit = new Int32Array(MAX_CODE_LEN);
  const base = new Int32Array(MAX_CODE_LEN);
  const perm = new Int32Array(MAX_ALPHA);
  // hbCreateDecodeTables, verbatim in structure so corrupt tables fail the same way.
  let pp = 0;
  for (let i = minLen; i <= maxLen; i++) {
    for (let j = 0; j < alphaSize; j++) if (lengths[j] === i) perm[pp++] = j;
  }
  for (let i = 0; i < alphaSize; i++) base[(lengths[i] as number) + 1]!++;
  for (let i = 1; i < MAX_CODE_LEN; i++) base[i]! += base[i - 1] as number;
  let vec = 0;
  for (let i = minLen; i <= maxLen; i++) {
    vec += (base[i + 1] as number) - (base[i] as number);
    limit[i] = vec - 1;
    vec <<= 1;
  }
  for (let i = minLen + 1; i <= maxLen; i++) base[i] = (((limit[i - 1] as number) + 1) << 1) - (base[i] as number);
  return { limit, base, perm, minLen };
}

function decodeSymbol(reader: BitReader, group: HuffmanGroup): number {
  let n = group.minLen;
  let code = reader.bits(n);
  for (;;) {
    if (n > 20) throw new DecodeError("bzip2 Huffman code is too long");
    if (code <= (group.limit[n] as number)) break;
    n++;
    code = (code << 1) | reader.bit();
  }
  const index = code - (group.base[n] as number);
  if (index < 0 || index >= MAX_ALPHA) throw new DecodeError("bzip2 Huffman code is invalid");
  return group.perm[index] as number;
}

/** The block buffer, grown on demand: small files should not pay for a 3.6 MB level-9 block. */
interface BlockBuffer {
  tt: Uint32Array;
}

function ensureBlock(block: BlockBuffer, size: number, blockMax: number): Uint32Array {
  if (size <= block.tt.length) return block.tt;
  let next = block.tt.length;
  while (next < size) next *= 2;
  const grown = new Uint32Array(Math.min(next, blockMax));
  grown.set(block.tt);
  block.tt = grown;
  return grown;
}

/** Reads one block's Huffman/MTF/RLE2 data (bytes before the inverse BWT); returns its length. */
function readBlockSymbols(reader: BitReader, block: BlockBuffer, blockMax: number): { count: number; origPtr: number } {
  if (reader.bit() !== 0) throw new DecodeError("randomised bzip2 blocks are not supported");
  const origPtr = reader.bits(24);
  if (origPtr > 10 + blockMax) throw new DecodeError("bzip2 block origin pointer is out of range");

  const inUse16 = reader.bits(16);
  const seqToUnseq: number[] = [];
  for (let i = 0; i < 16; i++) {
    if (inUse16 & (0x8000 >>> i)) {
      const word = reader.bits(16);
      for (let j = 0; j < 16; j++) if (word & (0x8000 >>> j)) seqToUnseq.push(i * 16 + j);
    }
  }
  if (seqToUnseq.length === 0) throw new DecodeError("bzip2 block uses no symbols");
  const alphaSize = seqToUnseq.length + 2;

  const groupCount = reader.bits(3);
  if (groupCount < 2 || groupCount > MAX_GROUPS) throw new DecodeError("bzip2 block has a bad group count");
  const selectorCount = reader.bits(15);
  if (selectorCount < 1) throw new DecodeError("bzip2 block has no selectors");
  const selectorMtf = new Uint8Array(Math.min(selectorCount, MAX_SELECTORS));
  for (let i = 0; i < selectorCount; i++) {
    let j = 0;
    while (reader.bit() === 1) {
      j++;
      if (j >= groupCount) throw new DecodeError("bzip2 selector is out of range");
    }
    // libbzip2 1.0.8 reads but ignores selectors past the maximum.
    if (i < MAX_SELECTORS) selectorMtf[i] = j;
  }
  const mtfGroups = Array.from({ length: groupCount }, (_, i) => i);
  const selectors = new Uint8Array(selectorMtf.length);
  for (let i = 0; i < selectorMtf.length; i++) {
    const v = selectorMtf[i] as number;
    const tmp = mtfGroups[v] as number;
    mtfGroups.splice(v, 1);
    mtfGroups.unshift(tmp);
    selectors[i] = tmp;
  }

  const groups: HuffmanGroup[] = [];
  for (let t = 0; t < groupCount; t++) {
    const lengths = new Uint8Array(alphaSize);
    let curr = reader.bits(5);
    for (let i = 0; i < alphaSize; i++) {
      for (;;) {
        if (curr < 1 || curr > 20) throw new DecodeError("bzip2 code length is out of range");
        if (reader.bit() === 0) break;
        curr += reader.bit() === 0 ? 1 : -1;
      }
      lengths[i] = curr;
    }
    groups.push(makeGroup(lengths, alphaSize));
  }

  const eob = seqToUnseq.length + 1;
  const mtf = Uint8Array.from({ length: 256 }, (_, i) => i);
  let groupIndex = -1;
  let groupLeft = 0;
  let group = groups[0] as HuffmanGroup;
  const next = (): number => {
    if (groupLeft === 0) {
      groupIndex++;
      if (groupIndex >= selectors.length) throw new DecodeError("bzip2 block runs out of selectors");
      group = groups[selectors[groupIndex] as number] as HuffmanGroup;
      groupLeft = GROUP_SIZE;
    }
    groupLeft--;
    return decodeSymbol(reader, group);
  };

  let count = 0;
  let sym = next();
  for (;;) {
    if (sym === eob) break;
    if (sym === RUNA || sym === RUNB) {
      let run = -1;
      let n = 1;
      do {
        if (n >= 2 * 1024 * 1024) throw new DecodeError("bzip2 run is too long");
        run += (sym === RUNA ? 1 : 2) * n;
        n *= 2;
        sym = next();
      } while (sym === RUNA || sym === RUNB);
      run++;
      const byte = seqToUnseq[mtf[0] as number] as number;
      if (count + run > blockMax) throw new DecodeError("bzip2 block overflows its declared size");
      ensureBlock(block, count + run, blockMax).fill(byte, count, count + run);
      count += run;
      continue;
    }
    if (count >= blockMax) throw new DecodeError("bzip2 block overflows its declared size");
    const index = sym - 1;
    const value = mtf[index] as number;
    mtf.copyWithin(1, 0, index);
    mtf[0] = value;
    ensureBlock(block, count + 1, blockMax)[count++] = seqToUnseq[value] as number;
    sym = next();
  }
  if (origPtr >= count) throw new DecodeError("bzip2 block origin pointer is out of range");
  return { count, origPtr };
}

/** Inverse BWT then the initial run-length decoding, straight into `out`; returns the block CRC. */
function emitBlock(tt: Uint32Array, count: number, origPtr: number, out: BoundedOutput): number {
  const cftab = new Int32Array(257);
  for (let i = 0; i < count; i++) cftab[((tt[i] as number) & 0xff) + 1]!++;
  for (let i = 1; i <= 256; i++) cftab[i]! += cftab[i - 1] as number;
  for (let i = 0; i < count; i++) {
    const byte = (tt[i] as number) & 0xff;
    const at = cftab[byte] as number;
    tt[at] = ((tt[at] as number) | (i << 8)) >>> 0;
    cftab[byte] = at + 1;
  }
  const start = out.length;
  let tPos = (tt[origPtr] as number) >>> 8;
  let last = -1;
  let runLength = 0;
  for (let i = 0; i < count; i++) {
    tPos = tt[tPos] as number;
    const byte = tPos & 0xff;
    tPos >>>= 8;
    if (runLength === 4) {
      // After four equal bytes the next one is a repeat count.
      out.reserve(byte);
      out.buf.fill(last, out.length, out.length + byte);
      out.length += byte;
      runLength = 0;
      continue;
    }
    out.byte(byte);
    if (byte === last) runLength++;
    else {
      last = byte;
      runLength = 1;
    }
  }
  return bzipCrcUpdate(0xffffffff, out.buf, start, out.length) ^ 0xffffffff;
}

function decodeStream(src: Uint8Array, at: number, out: BoundedOutput): number {
  if (src[at] !== 0x42 || src[at + 1] !== 0x5a || src[at + 2] !== 0x68) throw new DecodeError("not a bzip2 stream");
  const level = (src[at + 3] ?? 0) - 0x30;
  if (level < 1 || level > 9) throw new DecodeError("bzip2 block size is invalid");
  const blockMax = level * 100000;
  const reader = new BitReader(src, at + 4);
  const block: BlockBuffer = { tt: new Uint32Array(Math.min(blockMax, 1 << 16)) };
  let combined = 0;
  for (;;) {
    const magicHi = reader.bits(24);
    const magicLo = reader.bits(24);
    const crc = ((reader.bits(16) << 16) | reader.bits(16)) >>> 0;
    if (magicHi === 0x314159 && magicLo === 0x265359) {
      const { count, origPtr } = readBlockSymbols(reader, block, blockMax);
      const actual = emitBlock(block.tt, count, origPtr, out) >>> 0;
      if (actual !== crc) throw new DecodeError("bzip2 block CRC mismatch");
      combined = (((combined << 1) | (combined >>> 31)) ^ actual) >>> 0;
    } else if (magicHi === 0x177245 && magicLo === 0x385090) {
      if (crc !== combined) throw new DecodeError("bzip2 stream CRC mismatch");
      reader.alignToByte();
      return reader.pos;
    } else {
      throw new DecodeError("bzip2 block magic is missing");
    }
  }
}

/** Decodes concatenated bzip2 streams into `out` (BZ2File reads them all); trailing garbage is refused. */
export function decodeBzip2(src: Uint8Array, out: BoundedOutput): void {
  let pos = 0;
  do {
    pos = decodeStream(src, pos, out);
  } while (pos < src.length);
}
