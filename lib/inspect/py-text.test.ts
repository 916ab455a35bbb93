import { describe, expect, it } from "vitest";
import { parseDtypeSpec } from "./numpy-dtype";
import { escapeDecode, isPyFloat, parsePyInt, rawUnicodeEscape, validUtf8Surrogatepass } from "./py-text";

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

// Expected values below were checked against CPython 3.11 (int(), float(), codecs.escape_decode,
// the raw-unicode-escape codec and bytes.decode("utf-8", "surrogatepass")).
describe("Python text conversions", () => {
  it("parses int(text, 0) and int(text) like Python", () => {
    expect(parsePyInt(" 42\n", true)).toEqual({ n: 42, exact: true });
    expect(parsePyInt("-0x_1f", true)).toEqual({ n: -31, exact: true });
    expect(parsePyInt("0o17", true)).toEqual({ n: 15, exact: true });
    expect(parsePyInt("1_000", true)).toEqual({ n: 1000, exact: true });
    expect(parsePyInt("000", true)).toEqual({ n: 0, exact: true });
    expect(parsePyInt("010", true)).toBeNull(); // leading zeros are a SyntaxError-style ValueError in base 0
    expect(parsePyInt("010", false)).toEqual({ n: 10, exact: true });
    expect(parsePyInt("1__0", false)).toBeNull();
    expect(parsePyInt("12345678901234567890", false)).toEqual({ n: 12345678901234567000, exact: false });
    expect(parsePyInt("", false)).toBeNull();
  });

  it("accepts float() spellings and nothing else", () => {
    for (const ok of ["1.5", " -2e-3 ", "inf", "-Infinity", "nan", "1_0.5", ".5", "5."]) expect(isPyFloat(ok), ok).toBe(true);
    for (const bad of ["1.5.2", "e5", "0x10", "1__0", ""]) expect(isPyFloat(bad), bad).toBe(false);
  });

  it("unescapes STRING arguments like codecs.escape_decode", () => {
    expect(escapeDecode(bytes("a\\x41\\101\\n\\q"))).toEqual(bytes("aAA\n\\q"));
    expect(escapeDecode(bytes("tail\\"))).toBeNull();
    expect(escapeDecode(bytes("\\xZZ"))).toBeNull();
  });

  it("decodes raw-unicode-escape like CPython", () => {
    const src = bytes("caf\\u00e9 \\\\u0041 \\U0001F600 \\q");
    expect(rawUnicodeEscape(src, 0, src.length)).toBe("café \\\\u0041 😀 \\q");
    const bad = bytes("\\u12");
    expect(rawUnicodeEscape(bad, 0, bad.length)).toBeNull();
  });

  it("validates UTF-8 with surrogatepass", () => {
    const ok = Uint8Array.from([0x61, 0xed, 0xa0, 0x80, 0xc3, 0xa9]);
    expect(validUtf8Surrogatepass(ok, 0, ok.length)).toBe(true);
    const overlong = Uint8Array.from([0xc0, 0x80]);
    expect(validUtf8Surrogatepass(overlong, 0, overlong.length)).toBe(false);
    const truncated = Uint8Array.from([0x61, 0xe2, 0x82]);
    expect(validUtf8Surrogatepass(truncated, 0, truncated.length)).toBe(false);
  });

  it("sizes numpy dtype strings", () => {
    expect(parseDtypeSpec("<f8")).toEqual({ size: 8, flexible: false, object: false });
    expect(parseDtypeSpec("O8")).toEqual({ size: 8, flexible: false, object: true });
    expect(parseDtypeSpec("U5")).toEqual({ size: 20, flexible: true, object: false });
    expect(parseDtypeSpec("|S3")).toEqual({ size: 3, flexible: true, object: false });
    expect(parseDtypeSpec("b1")).toEqual({ size: 1, flexible: false, object: false });
    expect(parseDtypeSpec("M8[ns]")).toEqual({ size: 8, flexible: false, object: false });
    expect(parseDtypeSpec("d")).toEqual({ size: 8, flexible: false, object: false });
    for (const bad of ["f3", "i16", "O4", "float64", "f8[ns]", "<", ""]) expect(parseDtypeSpec(bad), bad).toBeNull();
  });
});
