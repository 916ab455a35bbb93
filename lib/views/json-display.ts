import type { JsonValue } from "@/lib/registry";
import { fmtCount } from "./format";

// What one page shows of a metrics file, whatever the file holds (150,000 keys, megabyte strings, keys as
// long as a paragraph): at most MAX_ROWS rows per table, keys and values cut to these lengths. The rest is
// counted ("N more") and the file itself is a download away.
export const MAX_ROWS = 200;
export const MAX_KEY_CHARS = 120;
export const MAX_VALUE_CHARS = 300;

/** A record's first `limit` entries as [key, text] pairs, and how many more it has. */
export interface BoundedEntries {
  rows: [key: string, text: string][];
  more: number;
}

/**
 * Copies a registry record (null-prototype, arbitrary JSON) into at most `limit` plain [key, text] pairs,
 * keys and values cut to MAX_KEY_CHARS and `maxChars`, ready to render anywhere. Numbers that are
 * fractions get fixed decimals when `fixed` is set. Pure; time and output bounded by `limit` and `maxChars`
 * (beyond listing the record's keys).
 */
export function entriesOf(
  obj: Record<string, JsonValue> | null | undefined,
  { limit = MAX_ROWS, ...text }: TextOptions & { limit?: number } = {},
): BoundedEntries {
  if (!obj) return { rows: [], more: 0 };
  const keys = Object.keys(obj);
  const rows = keys.slice(0, limit).map((k): [string, string] => [clip(k, MAX_KEY_CHARS), valueText(obj[k] ?? null, text)]);
  return { rows, more: keys.length - rows.length };
}

/** `fixed`: fractions with 4 decimals. `json`: strings quoted, as JSON. `maxChars`: where text is cut. */
export interface TextOptions {
  fixed?: boolean;
  json?: boolean;
  maxChars?: number;
}

/**
 * One JSON value as text of at most about `maxChars` characters: strings bare, numbers optionally fixed,
 * nested values as compact JSON. Anything longer is cut and says so. Pure; never recursive, so no value
 * overflows the stack, and its time is bounded by `maxChars`, not by the value's size.
 */
export function valueText(v: JsonValue, { fixed = false, json = false, maxChars = MAX_VALUE_CHARS }: TextOptions = {}): string {
  if (v === null) return "null";
  if (typeof v === "number") return fixed && !Number.isInteger(v) ? v.toFixed(4) : String(v);
  if (typeof v === "string" && json) {
    const end = cutAt(v, maxChars);
    return end === v.length ? JSON.stringify(v) : `${JSON.stringify(v.slice(0, end))}${more(v.length - end)}`;
  }
  if (typeof v === "string") return clip(v, maxChars);
  if (typeof v === "boolean") return String(v);
  return compactJson(v, maxChars);
}

/** `text` cut to `max` characters (never inside a surrogate pair), saying how many more it had. Pure. */
export function clip(text: string, max: number): string {
  const end = cutAt(text, max);
  return end === text.length ? text : `${text.slice(0, end)}${more(text.length - end)}`;
}

/** A copy of a flat record with every string in it cut to `max` characters (see clip). Pure. */
export function clipStrings<T extends object>(record: T, max = MAX_VALUE_CHARS): T {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, typeof v === "string" ? clip(v, max) : v])) as T;
}

/** Where `text` is cut to at most `max` characters: its length when it fits; never inside a surrogate pair. */
function cutAt(text: string, max: number): number {
  if (text.length <= max) return text.length;
  const c = text.charCodeAt(max - 1);
  return c >= 0xd800 && c <= 0xdbff ? max - 1 : max;
}

const more = (n: number) => `… (${fmtCount(n)} characters more)`;

// One open array or object of compactJson's walk: its keys (objects only), and the next index.
type Frame = { array: JsonValue[]; keys: null; at: number } | { object: Record<string, JsonValue>; keys: string[]; at: number };

/**
 * A container as compact JSON, written with an explicit stack until `max` characters, then "…". Each
 * string or key is quoted from at most the characters that can still be shown. Pure.
 */
function compactJson(root: JsonValue[] | Record<string, JsonValue>, max: number): string {
  let out = "";
  const stack: Frame[] = [];
  const open = (v: JsonValue[] | Record<string, JsonValue>) => {
    if (Array.isArray(v)) {
      out += "[";
      stack.push({ array: v, keys: null, at: 0 });
    } else {
      out += "{";
      stack.push({ object: v, keys: Object.keys(v), at: 0 });
    }
  };
  const quote = (s: string) => JSON.stringify(s.length > max - out.length ? s.slice(0, Math.max(0, max - out.length) + 1) : s);
  open(root);
  while (stack.length > 0) {
    if (out.length > max) return `${out.slice(0, max)}… (more not shown)`;
    const frame = stack[stack.length - 1] as Frame;
    const n = frame.keys ? frame.keys.length : frame.array.length;
    if (frame.at >= n) {
      out += frame.keys ? "}" : "]";
      stack.pop();
      continue;
    }
    if (frame.at > 0) out += ",";
    let value: JsonValue;
    if (frame.keys) {
      const key = frame.keys[frame.at] as string;
      out += `${quote(key)}:`;
      value = frame.object[key] ?? null;
    } else {
      value = frame.array[frame.at] ?? null;
    }
    frame.at++;
    if (typeof value === "object" && value !== null) open(value);
    else if (typeof value === "string") out += quote(value);
    else out += value === null ? "null" : String(value);
  }
  return out.length > max ? `${out.slice(0, max)}… (more not shown)` : out;
}
