import { InvalidInputError } from "./errors";

export const MODELS_DIR = "models";
export const METRICS_DIR = "metrics";
export const MODEL_EXT = ".joblib";
export const METRICS_EXT = ".json";
export const ALIAS_STEM = "production_latest";

/** A version's metrics file, relative to the registry root. A flat string (join), not a concatenation tree: a server keeps 20,000. Pure. */
export function metricsFileOf(stem: string): string {
  return [METRICS_DIR, "/", stem, METRICS_EXT].join("");
}

/** A version's model file, relative to the registry root (a flat string, like metricsFileOf). Pure. */
export function modelFileOf(stem: string): string {
  return [MODELS_DIR, "/", stem, MODEL_EXT].join("");
}

// A stem is at most this long: with ".joblib" it fits every file system's 255-byte name.
const MAX_STEM = 200;

export type StemParse =
  | { ok: true; stem: string; modelType: string; timestamp: string }
  | { ok: false; code: "bad_name" | "bad_timestamp"; message: string };

/** What checkStem says of a good name: where its model type ends (the last underscore). */
export type StemCheck = { ok: true; cut: number } | Extract<StemParse, { ok: false }>;

/**
 * Splits a file stem at its last underscore into model type and UTC timestamp.
 * Pure. The timestamp must name a real instant (no 2025-02-30, no 24:00:00).
 */
export function parseStem(stem: string): StemParse {
  const checked = checkStem(stem);
  if (!checked.ok) return checked;
  return { ok: true, stem, modelType: stem.slice(0, checked.cut), timestamp: isoTimestamp(stem.slice(checked.cut + 1)) };
}

/**
 * parseStem's checks alone, building no strings: a scan lists tens of thousands of names, and keeps each
 * one's compact timestamp (the last COMPACT_TIMESTAMP characters, ordered as the instants are). Pure.
 */
export function checkStem(stem: string): StemCheck {
  const cut = stem.lastIndexOf("_");
  if (cut <= 0) {
    return {
      ok: false,
      code: "bad_name",
      message: `"${stem}" does not follow {model_type}_{YYYYMMDDTHHMMSSZ}: no model type before an underscore.`,
    };
  }
  // Read by character codes rather than a regular expression: scans parse tens of thousands of names.
  const at = cut + 1;
  const shaped = stem.length - at === COMPACT_TIMESTAMP && stem.charCodeAt(at + 8) === T && stem.charCodeAt(at + 15) === Z;
  const y = digits(stem, at, 4);
  const mo = digits(stem, at + 4, 2);
  const d = digits(stem, at + 6, 2);
  const h = digits(stem, at + 9, 2);
  const mi = digits(stem, at + 11, 2);
  const s = digits(stem, at + 13, 2);
  if (!shaped || y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) {
    return {
      ok: false,
      code: "bad_timestamp",
      message: `"${stem.slice(at)}" is not a timestamp of the form YYYYMMDDTHHMMSSZ.`,
    };
  }
  // Checked by arithmetic rather than through Date.
  const real = mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo) && h < 24 && mi < 60 && s < 60;
  if (!real) {
    return { ok: false, code: "bad_timestamp", message: `"${stem.slice(at)}" is not a real UTC date and time.` };
  }
  if (!nameable(stem)) {
    return {
      ok: false,
      code: "bad_name",
      message: `"${printable(stem)}" has characters a version name cannot have: a version is named in URLs and on the command line, so its model type may use letters, digits, "_", "-" and "." only (no "..", at most ${MAX_STEM} characters in all).`,
    };
  }
  return { ok: true, cut };
}

/**
 * The one rule for the characters of a version's name, shared by the scan (a file named otherwise is a
 * bad_name problem, not a version) and by names that arrive from a request or a flag: so every listed
 * version can be named, and nothing that names a path can. Letters, digits, "_", "-", "." (not first,
 * never ".."), at most MAX_STEM characters. Pure; by character codes (a scan checks tens of thousands).
 */
function nameable(stem: string): boolean {
  if (stem.length === 0 || stem.length > MAX_STEM) return false;
  for (let k = 0; k < stem.length; k++) {
    const c = stem.charCodeAt(k);
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (alnum) continue;
    if (k === 0) return false;
    if (c === 95 || c === 45) continue;
    if (c === 46 && stem.charCodeAt(k - 1) !== 46) continue;
    return false;
  }
  return true;
}

/**
 * "2025-01-01T10:30:45Z" from a checked compact timestamp "20250101T103045Z". One flat string from
 * character codes: no pieces to allocate, and no tree of concatenation nodes for a server that holds
 * 20,000 of these. Pure.
 */
export function isoTimestamp(c: string): string {
  const at = (k: number) => c.charCodeAt(k);
  // biome-ignore format: the layout of "YYYY-MM-DDTHH:MM:SSZ", one character code each
  return String.fromCharCode(at(0), at(1), at(2), at(3), 45, at(4), at(5), 45, at(6), at(7), T, at(9), at(10), 58, at(11), at(12), 58, at(13), at(14), Z);
}

const [T, Z] = [84, 90];

/** The number written by `n` ASCII digits of `s` from `from`, or -1 if any is not a digit. */
function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let k = from; k < from + n; k++) {
    const c = s.charCodeAt(k) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
}

function daysInMonth(y: number, mo: number): number {
  if (mo === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
}

/**
 * Validates a version name supplied by a caller (URL, form, CLI flag) and returns the bare stem.
 * Pure. Accepts the stem itself or the stem plus `.joblib`; refuses anything that could name a path
 * (separators, dots-only segments, NUL, encodings) or the production alias.
 */
export function validateVersionName(input: unknown): string {
  if (typeof input !== "string" || input.length === 0) {
    throw new InvalidInputError("A version name is required, e.g. candidate_logreg_20250305T101000Z.");
  }
  const name = input.endsWith(MODEL_EXT) ? input.slice(0, -MODEL_EXT.length) : input;
  if (!nameable(name)) {
    throw new InvalidInputError(
      `"${printable(input)}" is not a version name: use the file stem, e.g. candidate_logreg_20250305T101000Z (letters, digits, "_", "-", ".").`,
    );
  }
  if (name === ALIAS_STEM) {
    throw new InvalidInputError("production_latest is the production alias, not a version: name the version to use.");
  }
  const parsed = parseStem(name);
  if (!parsed.ok) throw new InvalidInputError(parsed.message);
  return name;
}

/** Makes hostile input safe to echo in a message (control characters shown as escapes, length capped). */
export function printable(s: string): string {
  const shown = JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}…` : s);
  return shown.slice(1, -1);
}

/**
 * The position of `stem` among `n` stems in listing order (by timestamp, which every listed stem ends
 * with), or -1: a binary search on the timestamp, then along the run of stems that share it. Pure.
 */
export function searchByTimestamp(n: number, stemAt: (i: number) => string, stem: string): number {
  const key = stem.slice(-COMPACT_TIMESTAMP);
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (stemAt(mid).slice(-COMPACT_TIMESTAMP) < key) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < n && stemAt(i).endsWith(key); i++) if (stemAt(i) === stem) return i;
  return -1;
}

/** The length of a stem's timestamp: "20250101T103045Z". */
export const COMPACT_TIMESTAMP = 16;
