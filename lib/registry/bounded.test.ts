import { describe, expect, it } from "vitest";
import { setBounded } from "./bounded";

describe("setBounded", () => {
  it("keeps at most `cap` entries, dropping the oldest, and a re-set entry counts as new", () => {
    const m = new Map<string, number>();
    for (let i = 0; i < 10; i++) setBounded(m, `k${i}`, i, 4);
    expect([...m.keys()]).toEqual(["k6", "k7", "k8", "k9"]);
    setBounded(m, "k6", 60, 4);
    setBounded(m, "k10", 10, 4);
    expect([...m.entries()]).toEqual([
      ["k8", 8],
      ["k9", 9],
      ["k6", 60],
      ["k10", 10],
    ]);
  });
});
