// Byte-exact re-implementations of the few Python text conversions the pickle text opcodes use.
// Each returns null where Python would raise, so the caller can report a malformed stream.
import { isAscii, isUtf8 } from "node:buffer";

/** Bytes [start, end) as a string of char codes (Latin-1). Pure. */
export function latin1(src: Uint8Array, start: number, end: number): string {
  if (end - start > 64) return Buffer.from(src.buffer, src.byteOffset + start, end - start).toString("latin1");
  let out = "";
  for (let i = start; i < end; i++) out += String.fromCharCode(src[i] as number);
  return out;
}

/** True when every byte in [start, end) is < 0x80. Pure. */
export function asciiOnly(src: Uint8Array, start: number, end: number): boolean {
  if (end - start > 64) return isAscii(src.subarray(start, end));
  for (let i = start; i < end; i++) if ((src[i] as number) >= 0x80) return false;
  return true;
}

/**
 * UTF-8 validity as Python's `str(data, "utf-8", "surrogatepass")` sees it: strict UTF-8 that also
 * accepts encoded surrogates (ED A0..BF xx). Pure.
 */
export function validUtf8Surrogatepass(src: Uint8Array, start: number, end: number): boolean {
  if (end - start <= 64) {
    if (asciiOnly(src, start, end)) return true;
  } else if (isUtf8(src.subarray(start, end))) {
    return true;
  }
  let i = start;
  while (i < end) {
    const b0 = src[i] as number;
    if (b0 < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) need = 1;
    else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      if (b0 === 0xe0) lo = 0xa0; // no overlongs; ED is allowed in full because of surrogatepass
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      if (b0 === 0xf0) lo = 0x90;
      if (b0 === 0xf4) hi = 0x8f;
    } else return false;
    if (i + need >= end) return false;
    const b1 = src[i + 1] as number;
    if (b1 < lo || b1 > hi) return false;
    for (let j = 2; j <= need; j++) {
      const b = src[i + j] as number;
      if (b < 0x80 || b > 0xbf) return false;
    }
    i += need + 1;
  }
  return true;
}

const SPACE = /^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g;

/** A parsed Python int: exact when it fits a double exactly. */
export interface PyInt {
  n: number;
  exact: boolean;
}

function digitsValue(digits: string, radix: number): PyInt {
  if (digits.length <= 12 || (radix === 10 && digits.length <= 15)) {
    return { n: Number.parseInt(digits, radix), exact: true };
  }
  const prefix = radix === 16 ? "0x" : radix === 8 ? "0o" : radix === 2 ? "0b" : "";
  const big = BigInt(prefix + digits);
  const n = Number(big);
  return { n, exact: Number.isSafeInteger(n) && BigInt(n) === big };
}

/**
 * Python's int(text) (base 10) or int(text, 0) (prefix-aware, no leading zeros on decimals). Pure.
 * Returns null where Python raises ValueError.
 */
export function parsePyInt(text: string, base0: boolean): PyInt | null {
  let s = text.replace(SPACE, "");
  let negative = false;
  if (s.startsWith("+") || s.startsWith("-")) {
    negative = s.startsWith("-");
    s = s.slice(1);
  }
  let radix = 10;
  if (base0 && /^0[xob]/i.test(s)) {
    const p = s[1]?.toLowerCase();
    radix = p === "x" ? 16 : p === "o" ? 8 : 2;
    s = s.slice(2);
    // One underscore may follow the prefix: int("0x_1f", 0) == 31.
    if (s.startsWith("_")) s = s.slice(1);
  }
  const digitClass = radix === 16 ? "[0-9a-fA-F]" : radix === 8 ? "[0-7]" : radix === 2 ? "[01]" : "[0-9]";
  if (!new RegExp(`^${digitClass}(_?${digitClass})*$`).test(s)) return null;
  const digits = s.replace(/_/g, "");
  if (base0 && radix === 10 && digits.length > 1 && digits.startsWith("0") && /[1-9]/.test(digits)) return null;
  const value = digitsValue(digits, radix);
  return negative ? { n: -value.n, exact: value.exact } : value;
}

/** Whether Python's float(text) accepts the text. Pure. */
export function isPyFloat(text: string): boolean {
  const s = text.replace(SPACE, "");
  if (/^[+-]?(inf|infinity|nan)$/i.test(s)) return true;
  const d = "\\d(?:_?\\d)*";
  return new RegExp(`^[+-]?(?:${d}(?:\\.(?:${d})?)?|\\.${d})(?:[eE][+-]?${d})?$`).test(s);
}

/** Python's float(text), assuming isPyFloat(text). Pure. */
export function pyFloatValue(text: string): number {
  const s = text.replace(SPACE, "").replace(/_/g, "").toLowerCase();
  if (s.endsWith("nan")) return Number.NaN;
  if (s.endsWith("inf") || s.endsWith("infinity")) return s.startsWith("-") ? -Infinity : Infinity;
  return Number(s);
}

const SIMPLE_ESCAPES: Readonly<Record<number, number>> = {
  92: 0x5c, // \\
  39: 0x27, // \'
  34: 0x22, // \"
  97: 0x07, // \a
  98: 0x08, // \b
  102: 0x0c, // \f
  110: 0x0a, // \n
  114: 0x0d, // \r
  116: 0x09, // \t
  118: 0x0b, // \v
};

function hexValue(b: number | undefined): number {
  if (b === undefined) return -1;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

/** codecs.escape_decode (the STRING opcode's unescaping). Pure. Returns null where Python raises. */
export function escapeDecode(src: Uint8Array): Uint8Array | null {
  const out: number[] = [];
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as number;
    if (c !== 0x5c) {
      out.push(c);
      continue;
    }
    i++;
    if (i >= src.length) return null; // "Trailing \ in string"
    const e = src[i] as number;
    if (e === 0x0a) continue; // backslash-newline is a line continuation
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out.push(simple);
    } else if (e >= 0x30 && e <= 0x37) {
      let value = e - 0x30;
      for (let n = 0; n < 2; n++) {
        const d = src[i + 1];
        if (d === undefined || d < 0x30 || d > 0x37) break;
        value = value * 8 + (d - 0x30);
        i++;
      }
      out.push(value & 0xff);
    } else if (e === 0x78) {
      const hi = hexValue(src[i + 1]);
      const lo = hexValue(src[i + 2]);
      if (hi < 0 || lo < 0) return null; // "invalid \x escape"
      out.push(hi * 16 + lo);
      i += 2;
    } else {
      out.push(0x5c, e); // unknown escapes are kept verbatim
    }
  }
  return Uint8Array.from(out);
}

/** The raw-unicode-escape codec (the UNICODE opcode). Pure. Returns null where Python raises. */
export function rawUnicodeEscape(src: Uint8Array, start: number, end: number): string | null {
  let out = "";
  let i = start;
  while (i < end) {
    const c = src[i++] as number;
    if (c !== 0x5c || i >= end) {
      out += String.fromCharCode(c);
      continue;
    }
    const e = src[i++] as number;
    if (e !== 0x75 && e !== 0x55) {
      out += `\\${String.fromCharCode(e)}`;
      continue;
    }
    const count = e === 0x75 ? 4 : 8;
    if (i + count > end) return null; // truncated \uXXXX
    let code = 0;
    for (let j = 0; j < count; j++) {
      const h = hexValue(src[i + j]);
      if (h < 0) return null;
      code = code * 16 + h;
    }
    if (code > 0x10ffff) return null;
    out += String.fromCodePoint(code);
    i += count;
  }
  return out;
}
