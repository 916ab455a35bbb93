import { describe, expect, it } from "vitest";
import { parseMetricsText } from "@/lib/registry";
import { entriesOf, valueText } from "./json-display";

describe("entriesOf", () => {
  it("turns a parsed metrics file's null-prototype records into plain text pairs", () => {
    const parsed = parseMetricsText(
      '{"metrics": {"pr_auc": 0.61234, "n": 3, "__proto__": {"x": 1}, "v": NaN}, "hyperparameters": {"C": 0.00003}}',
    );
    if (!parsed.ok) throw new Error(parsed.message);
    expect(entriesOf(parsed.doc.metrics, true)).toEqual([
      ["pr_auc", "0.6123"],
      ["n", "3"],
      ["__proto__", '{"x":1}'],
      ["v", "NaN"],
    ]);
    expect(entriesOf(parsed.doc.hyperparameters)).toEqual([["C", "0.00003"]]);
    expect(entriesOf(null)).toEqual([]);
    expect(valueText([1, "a"])).toBe('[1,"a"]');
  });
});
