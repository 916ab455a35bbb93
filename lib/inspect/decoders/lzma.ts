// LZMA decoder (after the LZMA SDK's reference LzmaSpec.cpp), used for .lzma ("alone") files and,
// through LZMA2 chunks, for .xz. The output buffer doubles as the dictionary: we keep everything.
import { type BoundedOutput, DecodeError } from "./bounded-output";

const NUM_STATES = 12;
const PROB_INIT = 1024;
const TOP = 0x1000000;
const END_POS_MODEL_INDEX = 14;
const NUM_FULL_DISTANCES = 128;
const MATCH_MIN_LEN = 2;
const DICT_MIN = 4096;

class LenDecoder {
  choice = new Uint16Array(2);
  low = new Uint16Array(16 << 3);
  mid = new Uint16Array(16 << 3);
  high = new Uint16Array(256);

  reset(): void {
    this.choice.fill(PROB_INIT);
    this.low.fill(PROB_INIT);
    this.mid.fill(PROB_INIT);
    this.high.fill(PROB_INIT);
  }
}

export interface LzmaProps {
  lc: number;
  lp: number;
  pb: number;
}

/** Splits the LZMA properties byte; null when it is out of range. Pure. */
export function parsePropsByte(byte: number): LzmaProps | null {
  if (byte >= 9 * 5 * 5) return null;
  return { lc: byte % 9, lp: Math.floor(byte / 9) % 5, pb: Math.floor(byte / 45) };
}

/** What stopped a decode() call. */
export type LzmaStop = "size" | "marker";

export class LzmaDecoder {
  // Range decoder over src[inPos, inEnd).
  private src: Uint8Array = new Uint8Array(0);
  private inPos = 0;
  private inEnd = 0;
  private range = 0;
  private code = 0;

  private lc = 0;
  private lp = 0;
  private pb = 0;
  private dictSize = DICT_MIN;
  private literal = new Uint16Array(0x300);
  private isMatch = new Uint16Array(NUM_STATES << 4);
  private isRep = new Uint16Array(NUM_STATES);
  private isRepG0 = new Uint16Array(NUM_STATES);
  private isRepG1 = new Uint16Array(NUM_STATES);
  private isRepG2 = new Uint16Array(NUM_STATES);
  private isRep0Long = new Uint16Array(NUM_STATES << 4);
  private posSlot = new Uint16Array(4 << 6);
  private posDecoders = new Uint16Array(1 + NUM_FULL_DISTANCES - END_POS_MODEL_INDEX);
  private align = new Uint16Array(1 << 4);
  private lenDecoder = new LenDecoder();
  private repLenDecoder = new LenDecoder();
  private state = 0;
  private rep0 = 0;
  private rep1 = 0;
  private rep2 = 0;
  private rep3 = 0;
  /** Output offset where the current dictionary started (LZMA2 can reset it mid-stream). */
  private dictStart = 0;

  constructor(private readonly out: BoundedOutput) {}

  setDictSize(size: number): void {
    this.dictSize = Math.max(size, DICT_MIN);
  }

  setProps(props: LzmaProps): void {
    this.lc = props.lc;
    this.lp = props.lp;
    this.pb = props.pb;
    const literalSize = 0x300 << (props.lc + props.lp);
    if (this.literal.length !== literalSize) this.literal = new Uint16Array(literalSize);
  }

  resetDict(): void {
    this.dictStart = this.out.length;
  }

  /** Probabilities and the state machine back to their initial values. */
  resetState(): void {
    this.literal.fill(PROB_INIT);
    this.isMatch.fill(PROB_INIT);
    this.isRep.fill(PROB_INIT);
    this.isRepG0.fill(PROB_INIT);
    this.isRepG1.fill(PROB_INIT);
    this.isRepG2.fill(PROB_INIT);
    this.isRep0Long.fill(PROB_INIT);
    this.posSlot.fill(PROB_INIT);
    this.posDecoders.fill(PROB_INIT);
    this.align.fill(PROB_INIT);
    this.lenDecoder.reset();
    this.repLenDecoder.reset();
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
  }

  /** Starts a range coder on src[start, end). */
  initRangeCoder(src: Uint8Array, start: number, end: number): void {
    if (end - start < 5) throw new DecodeError("LZMA data is truncated");
    if (src[start] !== 0) throw new DecodeError("LZMA range coder does not start with a zero byte");
    this.src = src;
    this.inEnd = end;
    this.range = 0xffffffff;
    this.code =
      ((src[start + 1] as number) * 0x1000000 +
        ((src[start + 2] as number) << 16) +
        ((src[start + 3] as number) << 8) +
        (src[start + 4] as number)) >>>
      0;
    this.inPos = start + 5;
    if (this.code === this.range) throw new DecodeError("LZMA range coder is corrupt");
  }

  /** Input offset the range coder has consumed up to. */
  get consumed(): number {
    return this.inPos;
  }

  get finishedOk(): boolean {
    return this.code === 0;
  }

  private normalize(): void {
    if (this.range < TOP) {
      if (this.inPos >= this.inEnd) throw new DecodeError("LZMA data is truncated");
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | (this.src[this.inPos++] as number)) >>> 0;
    }
  }

  private bit(probs: Uint16Array, i: number): number {
    const p = probs[i] as number;
    const bound = (this.range >>> 11) * p;
    let bit: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> 5);
      bit = 0;
    } else {
      this.range -= bound;
      this.code -= bound;
      probs[i] = p - (p >>> 5);
      bit = 1;
    }
    this.normalize();
    return bit;
  }

  private directBits(count: number): number {
    let result = 0;
    for (let n = count; n > 0; n--) {
      this.range >>>= 1;
      let bit = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        bit = 1;
      }
      result = result * 2 + bit;
      this.normalize();
    }
    return result;
  }

  private bitTree(probs: Uint16Array, offset: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) + this.bit(probs, offset + m);
    return m - (1 << bits);
  }

  private reverseBitTree(probs: Uint16Array, offset: number, bits: number): number {
    let m = 1;
    let symbol = 0;
    for (let i = 0; i < bits; i++) {
      const bit = this.bit(probs, offset + m);
      m = (m << 1) + bit;
      symbol |= bit << i;
    }
    return symbol;
  }

  private decodeLen(dec: LenDecoder, posState: number): number {
    if (this.bit(dec.choice, 0) === 0) return this.bitTree(dec.low, posState << 3, 3);
    if (this.bit(dec.choice, 1) === 0) return 8 + this.bitTree(dec.mid, posState << 3, 3);
    return 16 + this.bitTree(dec.high, 0, 8);
  }

  private decodeDistance(len: number): number {
    const lenState = Math.min(len, 3);
    const slot = this.bitTree(this.posSlot, lenState << 6, 6);
    if (slot < 4) return slot;
    const directCount = (slot >>> 1) - 1;
    let dist = (2 | (slot & 1)) * 2 ** directCount;
    if (slot < END_POS_MODEL_INDEX) {
      dist += this.reverseBitTree(this.posDecoders, dist - slot, directCount);
    } else {
      dist += this.directBits(directCount - 4) * 16;
      dist += this.reverseBitTree(this.align, 0, 4);
    }
    return dist;
  }

  private literalByte(): void {
    const out = this.out;
    const total = out.length - this.dictStart;
    const prev = total > 0 ? (out.buf[out.length - 1] as number) : 0;
    const litState = ((total & ((1 << this.lp) - 1)) << this.lc) + (prev >>> (8 - this.lc));
    const base = 0x300 * litState;
    const probs = this.literal;
    let symbol = 1;
    if (this.state >= 7) {
      let matchByte = out.buf[out.length - this.rep0 - 1] as number;
      do {
        const matchBit = (matchByte >>> 7) & 1;
        matchByte <<= 1;
        const bit = this.bit(probs, base + ((1 + matchBit) << 8) + symbol);
        symbol = (symbol << 1) | bit;
        if (matchBit !== bit) break;
      } while (symbol < 0x100);
    }
    while (symbol < 0x100) symbol = (symbol << 1) | this.bit(probs, base + symbol);
    out.byte(symbol - 0x100);
  }

  /**
   * Decodes until `size` more bytes are out (when size is not null) or the end marker.
   * `markerAllowed` is false for LZMA2 chunks, which must end exactly at their size.
   */
  decode(size: number | null, markerAllowed: boolean): LzmaStop {
    const out = this.out;
    const target = size === null ? Number.POSITIVE_INFINITY : out.length + size;
    const pbMask = (1 << this.pb) - 1;
    for (;;) {
      if (out.length === target && (!markerAllowed || this.code === 0)) return "size";
      const total = out.length - this.dictStart;
      const posState = total & pbMask;
      const s = this.state;
      if (this.bit(this.isMatch, (s << 4) + posState) === 0) {
        if (out.length >= target) throw new DecodeError("LZMA data runs past its declared size");
        this.literalByte();
        this.state = s < 4 ? 0 : s < 10 ? s - 3 : s - 6;
        continue;
      }
      let len: number;
      if (this.bit(this.isRep, s) !== 0) {
        if (out.length >= target) throw new DecodeError("LZMA data runs past its declared size");
        if (total === 0) throw new DecodeError("LZMA repeat match before any output");
        if (this.bit(this.isRepG0, s) === 0) {
          if (this.bit(this.isRep0Long, (s << 4) + posState) === 0) {
            this.state = s < 7 ? 9 : 11;
            out.byte(out.buf[out.length - this.rep0 - 1] as number);
            continue;
          }
        } else {
          let dist: number;
          if (this.bit(this.isRepG1, s) === 0) {
            dist = this.rep1;
          } else {
            if (this.bit(this.isRepG2, s) === 0) {
              dist = this.rep2;
            } else {
              dist = this.rep3;
              this.rep3 = this.rep2;
            }
            this.rep2 = this.rep1;
          }
          this.rep1 = this.rep0;
          this.rep0 = dist;
        }
        len = this.decodeLen(this.repLenDecoder, posState);
        this.state = s < 7 ? 8 : 11;
      } else {
        this.rep3 = this.rep2;
        this.rep2 = this.rep1;
        this.rep1 = this.rep0;
        len = this.decodeLen(this.lenDecoder, posState);
        this.state = s < 7 ? 7 : 10;
        this.rep0 = this.decodeDistance(len);
        if (this.rep0 === 0xffffffff) {
          if (!markerAllowed || this.code !== 0) throw new DecodeError("unexpected LZMA end marker");
          if (size !== null && out.length !== target) throw new DecodeError("LZMA end marker before the declared size");
          return "marker";
        }
        if (out.length >= target) throw new DecodeError("LZMA data runs past its declared size");
        if (this.rep0 >= this.dictSize || this.rep0 >= total) throw new DecodeError("LZMA match distance is out of range");
      }
      len += MATCH_MIN_LEN;
      if (out.length + len > target) throw new DecodeError("LZMA match runs past the declared size");
      out.copyMatch(this.rep0 + 1, len);
    }
  }
}
