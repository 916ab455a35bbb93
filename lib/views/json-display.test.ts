import { describe, expect, it } from "vitest";
import { type JsonValue, parseMetricsText } from "@/lib/registry";
import { clip, clipStrings, entriesOf, MAX_KEY_CHARS, MAX_ROWS, MAX_VALUE_CHARS, valueText } from "./json-display";

describe("entriesOf", () => {
  it("turns a parsed metrics file's null-prototype records into plain text pairs", () => {
    const parsed = parseMetricsText(
      '{"metrics": {"pr_auc": 0.61234, "n": 3, "__proto__": {"x": 1}, "v": NaN}, "hyperparameters": {"C": 0.00003}}',
    );
    if (!parsed.ok) throw new Error(parsed.message);
    expect(entriesOf(parsed.doc.metrics, { fixed: true })).toEqual({
      rows: [
        ["pr_auc", "0.6123"],
        ["n", "3"],
        ["__proto__", '{"x":1}'],
        ["v", "NaN"],
      ],
      more: 0,
    });
    expect(entriesOf(parsed.doc.hyperparameters)).toEqual({ rows: [["C", "0.00003"]], more: 0 });
    expect(entriesOf(null)).toEqual({ rows: [], more: 0 });
    expect(valueText([1, "a"])).toBe('[1,"a"]');
    expect(valueText({ a: [1, { b: null }], c: true })).toBe('{"a":[1,{"b":null}],"c":true}');
    expect(valueText("x", { json: true })).toBe('"x"');
  });

  it("is bounded whatever the record holds: rows, key lengths and value lengths", () => {
    const huge: Record<string, JsonValue> = Object.create(null);
    for (let i = 0; i < 150_000; i++) huge[`m${i}`] = 0.5;
    huge["k".repeat(20_000)] = "x".repeat(1_000_000);
    const { rows, more } = entriesOf(huge);
    expect(rows).toHaveLength(MAX_ROWS);
    expect(more).toBe(150_001 - MAX_ROWS);
    const long = entriesOf(Object.fromEntries([["k".repeat(20_000), "x".repeat(1_000_000)]]));
    const [key, text] = long.rows[0] as [string, string];
    expect(key.length).toBeLessThan(MAX_KEY_CHARS + 40);
    expect(key).toMatch(/… \(19,880 characters more\)$/);
    expect(text.length).toBeLessThan(MAX_VALUE_CHARS + 40);
    expect(text).toMatch(/… \(999,700 characters more\)$/);
    expect(valueText("x".repeat(1_000_000), { json: true })).toMatch(/^"x+"… \(999,700 characters more\)$/);
  });

  it("writes nested values of any depth and size without recursion, cut at the bound", () => {
    let deep: JsonValue = [];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const text = valueText(deep);
    expect(text.startsWith("[[[[")).toBe(true);
    expect(text).toMatch(/… \(more not shown\)$/);
    expect(text.length).toBeLessThan(MAX_VALUE_CHARS + 40);

    const wide = Array.from({ length: 100_000 }, (_, i) => ({ [`k${i}`]: "v".repeat(1_000) }));
    expect(valueText(wide, { maxChars: 50 })).toBe(`[{"k0":"${"v".repeat(42)}… (more not shown)`);
    // A long key inside a nested value is cut too, not copied whole first.
    expect(valueText({ ["k".repeat(1_000_000)]: 1 }).length).toBeLessThan(MAX_VALUE_CHARS + 40);
  });

  it("never cuts inside a surrogate pair", () => {
    const text = `${"a".repeat(9)}😀😀`;
    expect(clip(text, 10)).toBe(`${"a".repeat(9)}… (4 characters more)`);
    expect(clip(text, 11)).toBe(`${"a".repeat(9)}😀… (2 characters more)`);
    expect(clip("short", 10)).toBe("short");
    expect(clipStrings({ a: "x".repeat(20), b: 3, c: null }, 10)).toEqual({ a: `${"x".repeat(10)}… (10 characters more)`, b: 3, c: null });
  });
});
