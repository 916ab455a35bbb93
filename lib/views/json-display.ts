import type { JsonValue } from "@/lib/registry";

/**
 * Copies a registry record (null-prototype, arbitrary JSON) into plain [key, text] pairs, ready to render
 * anywhere. Numbers that are fractions get fixed decimals when `fixed` is set. Pure.
 */
export function entriesOf(obj: Record<string, JsonValue> | null | undefined, fixed = false): [string, string][] {
  if (!obj) return [];
  return Object.keys(obj).map((k) => [k, valueText(obj[k] ?? null, fixed)]);
}

/** One JSON value as text: strings bare, numbers optionally fixed, nested values as compact JSON. Pure. */
export function valueText(v: JsonValue, fixed = false): string {
  if (v === null) return "null";
  if (typeof v === "number") return fixed && !Number.isInteger(v) ? v.toFixed(4) : String(v);
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}
