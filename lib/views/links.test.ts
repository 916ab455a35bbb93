import { describe, expect, it } from "vitest";
import { validateVersionName } from "@/lib/registry";
import { compareHref, literalPercents, metricsHref, versionHref } from "./links";

describe("links to versions", () => {
  it("round-trip a name through its URL", () => {
    for (const stem of ["candidate_logreg_20250305T101000Z", "a.b-c_d_20250607T000000Z"]) {
      const href = versionHref(stem);
      expect(validateVersionName(decodeURIComponent(href.slice("/versions/".length)))).toBe(stem);
    }
    // Whatever a name holds, it stays one path segment and one query value.
    expect(versionHref("<img src=x>/../x?y#z")).toBe("/versions/%3Cimg%20src%3Dx%3E%2F..%2Fx%3Fy%23z");
    expect(metricsHref("a_20250101T000000Z")).toBe("/versions/a_20250101T000000Z/metrics.json");
    expect(compareHref(["a&v=b", "c"])).toBe("/compare?v=a%26v%3Db&v=c");
    expect(compareHref([])).toBe("/compare");
  });

  it("makes malformed percent-encoding literal, segment by segment, and leaves the rest alone", () => {
    expect(literalPercents("/versions/candidate_logreg_20250305T101000Z")).toBeNull();
    expect(literalPercents("/versions/%3Cimg%3E")).toBeNull();
    expect(literalPercents("/versions/%ff")).toBe("/versions/%25ff");
    expect(literalPercents("/versions/%")).toBe("/versions/%25");
    expect(literalPercents("/versions/%E0%A4%A")).toBe("/versions/%25E0%25A4%25A");
    expect(literalPercents("/versions/%ff/metrics.json")).toBe("/versions/%25ff/metrics.json");
    for (const bad of ["/versions/%ff", "/versions/%", "/versions/%E0%A4%A", "/versions/abc%ff_20250101T000000Z"]) {
      const fixed = literalPercents(bad) as string;
      // Decodes now, to the text as it was typed, which is no version's name.
      const segment = decodeURIComponent(fixed.split("/")[2] as string);
      expect(segment).toBe(bad.split("/")[2]);
      expect(() => validateVersionName(segment)).toThrow();
    }
  });
});
