// .lzma ("LZMA alone", what joblib's "lzma" compressor writes) and .xz (LZMA2 in the xz container).
import { createHash } from "node:crypto";
import { type BoundedOutput, DecodeError } from "./bounded-output";
import { crc32, crc64 } from "./checksums";
import { LzmaDecoder, parsePropsByte } from "./lzma";

function u32le(src: Uint8Array, at: number): number {
  return ((src[at] as number) | ((src[at + 1] as number) << 8) | ((src[at + 2] as number) << 16)) + (src[at + 3] as number) * 0x1000000;
}

/** Decodes a .lzma file (13-byte header, then one LZMA stream) into `out`. Trailing bytes are refused. */
export function decodeLzmaAlone(src: Uint8Array, out: BoundedOutput): void {
  if (src.length < 13) throw new DecodeError("LZMA header is truncated");
  const props = parsePropsByte(src[0] as number);
  if (!props) throw new DecodeError("LZMA properties byte is invalid");
  const dictSize = u32le(src, 1);
  const sizeLo = u32le(src, 5);
  const sizeHi = u32le(src, 9);
  const unknownSize = sizeLo === 0xffffffff && sizeHi === 0xffffffff;
  if (!unknownSize && sizeHi >= 0x200000) throw new DecodeError("LZMA declared size is absurd");
  const decoder = new LzmaDecoder(out);
  decoder.setProps(props);
  decoder.setDictSize(dictSize);
  decoder.resetDict();
  decoder.resetState();
  decoder.initRangeCoder(src, 13, src.length);
  decoder.decode(unknownSize ? null : sizeHi * 0x100000000 + sizeLo, true);
  if (decoder.consumed !== src.length) {
    throw new DecodeError(`${src.length - decoder.consumed} trailing bytes after the LZMA stream`);
  }
}

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const CHECK_SIZES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

/** Reads an xz variable-length integer (max 9 bytes); returns [value, next offset]. */
function readVli(src: Uint8Array, at: number, end: number): [number, number] {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 9; i++) {
    if (at + i >= end) throw new DecodeError("xz integer is truncated");
    const b = src[at + i] as number;
    value += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) {
      if (b === 0 && i > 0) throw new DecodeError("xz integer is not minimally encoded");
      return [value, at + i + 1];
    }
  }
  throw new DecodeError("xz integer is too long");
}

function checkCrc32(src: Uint8Array, start: number, end: number, at: number, what: string): void {
  if (at + 4 > src.length) throw new DecodeError(`${what} CRC is truncated`);
  if (crc32(src, start, end) !== u32le(src, at)) throw new DecodeError(`${what} CRC mismatch`);
}

function lzma2DictSize(props: number): number {
  if (props > 40) throw new DecodeError("LZMA2 dictionary size is invalid");
  if (props === 40) return 0xffffffff;
  return (2 | (props & 1)) * 2 ** (Math.floor(props / 2) + 11);
}

/** Decodes LZMA2 chunks starting at `at`; returns the offset after the end-of-stream byte. */
function decodeLzma2(src: Uint8Array, at: number, end: number, dictSize: number, out: BoundedOutput): number {
  const decoder = new LzmaDecoder(out);
  decoder.setDictSize(dictSize);
  let pos = at;
  let needDictReset = true;
  let needProps = true;
  for (;;) {
    if (pos >= end) throw new DecodeError("LZMA2 data is truncated");
    const control = src[pos++] as number;
    if (control === 0x00) return pos;
    if (control >= 0xe0 || control === 0x01) {
      needProps = true;
      needDictReset = false;
      decoder.resetDict();
    } else if (needDictReset) {
      throw new DecodeError("LZMA2 stream does not start with a dictionary reset");
    }
    if (control >= 0x80) {
      if (pos + 4 > end) throw new DecodeError("LZMA2 chunk header is truncated");
      const unpacked = (control & 0x1f) * 0x10000 + ((src[pos] as number) << 8) + (src[pos + 1] as number) + 1;
      const packed = ((src[pos + 2] as number) << 8) + (src[pos + 3] as number) + 1;
      pos += 4;
      if (control >= 0xc0) {
        if (pos >= end) throw new DecodeError("LZMA2 chunk header is truncated");
        const props = parsePropsByte(src[pos++] as number);
        if (!props || props.lc + props.lp > 4) throw new DecodeError("LZMA2 properties are invalid");
        decoder.setProps(props);
        needProps = false;
        decoder.resetState();
      } else if (needProps) {
        throw new DecodeError("LZMA2 chunk lacks properties");
      } else if (control >= 0xa0) {
        decoder.resetState();
      }
      if (pos + packed > end) throw new DecodeError("LZMA2 chunk is truncated");
      decoder.initRangeCoder(src, pos, pos + packed);
      decoder.decode(unpacked, false);
      if (!decoder.finishedOk || decoder.consumed !== pos + packed) {
        throw new DecodeError("LZMA2 chunk does not end where its header says");
      }
      pos += packed;
    } else {
      if (control > 0x02) throw new DecodeError(`invalid LZMA2 control byte 0x${control.toString(16)}`);
      if (pos + 2 > end) throw new DecodeError("LZMA2 chunk header is truncated");
      const size = ((src[pos] as number) << 8) + (src[pos + 1] as number) + 1;
      pos += 2;
      if (pos + size > end) throw new DecodeError("LZMA2 chunk is truncated");
      out.bytes(src, pos, pos + size);
      pos += size;
    }
  }
}

function verifyCheck(checkType: number, data: Uint8Array, stored: Uint8Array): void {
  let actual: Uint8Array;
  if (checkType === 1) {
    actual = new Uint8Array(4);
    new DataView(actual.buffer).setUint32(0, crc32(data), true);
  } else if (checkType === 4) {
    actual = crc64(data);
  } else if (checkType === 10) {
    actual = createHash("sha256").update(data).digest();
  } else {
    throw new DecodeError(`unsupported xz check type ${checkType}`);
  }
  if (!actual.every((b, i) => b === stored[i])) throw new DecodeError("xz block check mismatch");
}

interface BlockRecord {
  unpadded: number;
  uncompressed: number;
}

/** Decodes one xz block at `at`; returns the offset after its check field. */
function decodeBlock(src: Uint8Array, at: number, checkType: number, out: BoundedOutput, records: BlockRecord[]): number {
  const headerSize = ((src[at] as number) + 1) * 4;
  const headerEnd = at + headerSize;
  if (headerEnd > src.length) throw new DecodeError("xz block header is truncated");
  checkCrc32(src, at, headerEnd - 4, headerEnd - 4, "xz block header");
  const flags = src[at + 1] as number;
  if ((flags & 0x3c) !== 0) throw new DecodeError("xz block flags use reserved bits");
  const filterCount = (flags & 0x03) + 1;
  let pos = at + 2;
  let compressedSize = -1;
  let uncompressedSize = -1;
  if (flags & 0x40) [compressedSize, pos] = readVli(src, pos, headerEnd - 4);
  if (flags & 0x80) [uncompressedSize, pos] = readVli(src, pos, headerEnd - 4);
  let dictSize = -1;
  for (let i = 0; i < filterCount; i++) {
    let id: number;
    let propSize: number;
    [id, pos] = readVli(src, pos, headerEnd - 4);
    [propSize, pos] = readVli(src, pos, headerEnd - 4);
    if (pos + propSize > headerEnd - 4) throw new DecodeError("xz filter properties are truncated");
    // Python's lzma writes a single LZMA2 filter; BCJ/delta chains are refused rather than half-decoded.
    if (id !== 0x21 || i !== filterCount - 1 || propSize !== 1) throw new DecodeError(`unsupported xz filter 0x${id.toString(16)}`);
    dictSize = lzma2DictSize(src[pos] as number);
    pos += propSize;
  }
  for (; pos < headerEnd - 4; pos++) if (src[pos] !== 0) throw new DecodeError("xz block header padding is not zero");

  const dataStart = out.length;
  const dataEnd = decodeLzma2(src, headerEnd, src.length, dictSize, out);
  const compressed = dataEnd - headerEnd;
  if (compressedSize >= 0 && compressedSize !== compressed) throw new DecodeError("xz block compressed size mismatch");
  if (uncompressedSize >= 0 && uncompressedSize !== out.length - dataStart) throw new DecodeError("xz block size mismatch");
  let pos2 = dataEnd;
  while ((pos2 - at) % 4 !== 0) {
    if (src[pos2] !== 0) throw new DecodeError("xz block padding is not zero");
    pos2++;
  }
  const checkSize = CHECK_SIZES[checkType] as number;
  if (pos2 + checkSize > src.length) throw new DecodeError("xz block check is truncated");
  if (checkType !== 0) verifyCheck(checkType, out.buf.subarray(dataStart, out.length), src.subarray(pos2, pos2 + checkSize));
  records.push({ unpadded: headerSize + compressed + checkSize, uncompressed: out.length - dataStart });
  return pos2 + checkSize;
}

/** Decodes the index at `at` and checks it against the blocks; returns the offset after it. */
function decodeIndex(src: Uint8Array, at: number, records: BlockRecord[]): number {
  const [count, afterCount] = readVli(src, at + 1, src.length);
  let pos = afterCount;
  if (count !== records.length) throw new DecodeError("xz index does not match the blocks");
  for (const record of records) {
    let unpadded: number;
    let uncompressed: number;
    [unpadded, pos] = readVli(src, pos, src.length);
    [uncompressed, pos] = readVli(src, pos, src.length);
    if (unpadded !== record.unpadded || uncompressed !== record.uncompressed) {
      throw new DecodeError("xz index does not match the blocks");
    }
  }
  while ((pos - at) % 4 !== 0) {
    if (src[pos] !== 0) throw new DecodeError("xz index padding is not zero");
    pos++;
  }
  checkCrc32(src, at, pos, pos, "xz index");
  return pos + 4;
}

/** Decodes one xz stream at `at`; returns the offset after its footer. */
function decodeStream(src: Uint8Array, at: number, out: BoundedOutput): number {
  if (at + 12 > src.length || XZ_MAGIC.some((b, i) => src[at + i] !== b)) throw new DecodeError("not an xz stream");
  checkCrc32(src, at + 6, at + 8, at + 8, "xz stream header");
  if (src[at + 6] !== 0 || ((src[at + 7] as number) & 0xf0) !== 0) throw new DecodeError("xz stream flags are invalid");
  const checkType = (src[at + 7] as number) & 0x0f;
  let pos = at + 12;
  const records: BlockRecord[] = [];
  for (;;) {
    if (pos >= src.length) throw new DecodeError("xz stream is truncated");
    if (src[pos] === 0) break;
    pos = decodeBlock(src, pos, checkType, out, records);
  }
  const indexStart = pos;
  pos = decodeIndex(src, pos, records);
  if (pos + 12 > src.length) throw new DecodeError("xz stream footer is truncated");
  checkCrc32(src, pos + 4, pos + 10, pos, "xz stream footer");
  const backward = (u32le(src, pos + 4) + 1) * 4;
  if (backward !== pos - indexStart) throw new DecodeError("xz footer does not point at the index");
  if (src[pos + 8] !== src[at + 6] || src[pos + 9] !== src[at + 7]) throw new DecodeError("xz footer flags differ from the header");
  if (src[pos + 10] !== 0x59 || src[pos + 11] !== 0x5a) throw new DecodeError("xz footer magic is missing");
  return pos + 12;
}

/** Decodes concatenated .xz streams (with 4-byte-aligned zero padding between them) into `out`. */
export function decodeXz(src: Uint8Array, out: BoundedOutput): void {
  let pos = decodeStream(src, 0, out);
  while (pos < src.length) {
    const paddingStart = pos;
    while (pos < src.length && src[pos] === 0) pos++;
    if ((pos - paddingStart) % 4 !== 0) throw new DecodeError("xz stream padding is not a multiple of 4");
    if (pos < src.length) pos = decodeStream(src, pos, out);
  }
}
