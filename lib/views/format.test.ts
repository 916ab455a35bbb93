import { describe, expect, it } from "vitest";
import { fmtAgo, fmtBytes, fmtCount, fmtDelta, fmtMetric, fmtTime } from "./format";

describe("format", () => {
  it("gives metrics and deltas fixed decimals so columns align", () => {
    expect(fmtMetric(0.65)).toBe("0.6500");
    expect(fmtMetric(null)).toBe("—");
    expect(fmtDelta(0.08533)).toBe("+0.0853");
    expect(fmtDelta(-0.012)).toBe("−0.0120");
    expect(fmtDelta(0)).toBe("±0.0000");
    expect(fmtDelta(-0.00001)).toBe("±0.0000");
  });

  it("formats counts, times and sizes independently of the machine's locale and zone", () => {
    expect(fmtCount(20000)).toBe("20,000");
    expect(fmtTime("2025-03-05T10:10:00Z")).toBe("2025-03-05 10:10 UTC");
    expect(fmtBytes(2573)).toBe("2.5 KiB");
    expect(fmtAgo("2025-03-01T00:00:00Z", new Date("2025-03-04T01:00:00Z"))).toBe("3 days ago");
  });
});
