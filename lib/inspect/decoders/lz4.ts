// LZ4 frame format decoder (what python-lz4's LZ4FrameFile, joblib's "lz4" compressor, writes).
import { type BoundedOutput, DecodeError } from "./bounded-output";
import { xxh32 } from "./checksums";

const FRAME_MAGIC = 0x184d2204;
const BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

function u32le(src: Uint8Array, at: number): number {
  return ((src[at] as number) | ((src[at + 1] as number) << 8) | ((src[at + 2] as number) << 16)) + (src[at + 3] as number) * 0x1000000;
}

function need(src: Uint8Array, at: number, n: number, what: string): void {
  if (at + n > src.length) throw new DecodeError(`LZ4 ${what} is truncated`);
}

/** Reads an LZ4 length continuation (bytes of 255 then a final byte); returns [extra, next offset]. */
function lengthTail(src: Uint8Array, at: number, end: number): [number, number] {
  let extra = 0;
  let pos = at;
  for (;;) {
    if (pos >= end) throw new DecodeError("LZ4 block is truncated");
    const b = src[pos++] as number;
    extra += b;
    if (b !== 255) return [extra, pos];
  }
}

/** Decodes one compressed block; `windowStart` is the earliest output offset a match may reach. */
function decodeBlock(src: Uint8Array, start: number, end: number, out: BoundedOutput, windowStart: number, blockMax: number): void {
  const blockStart = out.length;
  let pos = start;
  for (;;) {
    if (pos >= end) throw new DecodeError("LZ4 block ends without its final literals");
    const token = src[pos++] as number;
    let literals = token >>> 4;
    if (literals === 15) {
      let extra: number;
      [extra, pos] = lengthTail(src, pos, end);
      literals += extra;
    }
    if (pos + literals > end) throw new DecodeError("LZ4 literals overrun the block");
    if (out.length - blockStart + literals > blockMax) throw new DecodeError("LZ4 block decodes past its maximum size");
    out.bytes(src, pos, pos + literals);
    pos += literals;
    if (pos === end) return;
    if (pos + 2 > end) throw new DecodeError("LZ4 match offset is truncated");
    const offset = (src[pos] as number) | ((src[pos + 1] as number) << 8);
    pos += 2;
    if (offset === 0 || offset > out.length - windowStart) throw new DecodeError("LZ4 match offset is out of range");
    let length = (token & 15) + 4;
    if ((token & 15) === 15) {
      let extra: number;
      [extra, pos] = lengthTail(src, pos, end);
      length += extra;
    }
    if (out.length - blockStart + length > blockMax) throw new DecodeError("LZ4 block decodes past its maximum size");
    out.copyMatch(offset, length);
  }
}

/** Decodes one frame at `at`; returns the offset after it. */
function decodeFrame(src: Uint8Array, at: number, out: BoundedOutput): number {
  need(src, at, 7, "frame header");
  const flg = src[at + 4] as number;
  const bd = src[at + 5] as number;
  if (flg >> 6 !== 1) throw new DecodeError("LZ4 frame version is not 01");
  if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) throw new DecodeError("LZ4 frame uses reserved bits");
  if (flg & 0x01) throw new DecodeError("LZ4 frames with a dictionary ID are not supported");
  const blockMax = BLOCK_MAX[(bd >> 4) & 7] as number;
  if (blockMax === 0) throw new DecodeError("LZ4 block size code is invalid");
  const independent = (flg & 0x20) !== 0;
  const blockChecksum = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  let pos = at + 6;
  let contentSize = -1;
  if (hasContentSize) {
    need(src, pos, 9, "frame header");
    const hi = u32le(src, pos + 4);
    if (hi >= 0x200000) throw new DecodeError("LZ4 content size is absurd");
    contentSize = hi * 0x100000000 + u32le(src, pos);
    pos += 8;
  }
  need(src, pos, 1, "frame header");
  if (((xxh32(src, at + 4, pos) >>> 8) & 0xff) !== src[pos]) throw new DecodeError("LZ4 frame header checksum mismatch");
  pos++;
  const frameStart = out.length;
  for (;;) {
    need(src, pos, 4, "block header");
    const word = u32le(src, pos);
    pos += 4;
    if (word === 0) break;
    const size = word % 0x80000000;
    const stored = word >= 0x80000000;
    if (size > blockMax) throw new DecodeError("LZ4 block is larger than the frame allows");
    need(src, pos, size + (blockChecksum ? 4 : 0), "block");
    if (blockChecksum && xxh32(src, pos, pos + size) !== u32le(src, pos + size)) throw new DecodeError("LZ4 block checksum mismatch");
    if (stored) out.bytes(src, pos, pos + size);
    else decodeBlock(src, pos, pos + size, out, independent ? out.length : frameStart, blockMax);
    pos += size + (blockChecksum ? 4 : 0);
  }
  if (contentSize >= 0 && out.length - frameStart !== contentSize) throw new DecodeError("LZ4 content size mismatch");
  if (contentChecksum) {
    need(src, pos, 4, "content checksum");
    if (xxh32(out.buf, frameStart, out.length) !== u32le(src, pos)) throw new DecodeError("LZ4 content checksum mismatch");
    pos += 4;
  }
  return pos;
}

/** Decodes concatenated LZ4 frames (skippable frames are skipped) into `out`; trailing garbage is refused. */
export function decodeLz4(src: Uint8Array, out: BoundedOutput): void {
  let pos = 0;
  let frames = 0;
  while (pos < src.length) {
    need(src, pos, 4, "frame magic");
    const magic = u32le(src, pos);
    if (magic === FRAME_MAGIC) {
      pos = decodeFrame(src, pos, out);
      frames++;
    } else if (magic >= 0x184d2a50 && magic <= 0x184d2a5f) {
      need(src, pos, 8, "skippable frame");
      pos += 8 + u32le(src, pos + 4);
      if (pos > src.length) throw new DecodeError("LZ4 skippable frame is truncated");
    } else {
      throw new DecodeError(`unexpected bytes after LZ4 frame at byte ${pos}`);
    }
  }
  if (frames === 0) throw new DecodeError("no LZ4 frame found");
}
