import { describe, expect, it } from "vitest";
import { safeNextPath } from "./redirect";

const OURS = "https://registry.example.com";

/** How a browser reads a Location value on our site: where it ends up. */
function landsOn(location: string): URL {
  return new URL(location, `${OURS}/login`);
}

describe("safeNextPath: where sign-in sends you", () => {
  it("keeps paths on this site, with their query and fragment", () => {
    for (const path of [
      "/",
      "/audit",
      "/audit?action=model.promoted&page=2",
      "/versions/candidate_logreg_20250305T101000Z",
      "/compare?v=a&v=b#chart",
    ]) {
      expect(safeNextPath(path)).toBe(path);
    }
    expect(safeNextPath("/a/../audit")).toBe("/audit");
    expect(safeNextPath("/versions/é")).toBe("/versions/%C3%A9");
    expect(safeNextPath("/a%2Fb")).toBe("/a%2Fb");
  });

  // The review's findings first, then the usual open-redirect catalogue.
  const HOSTILE = [
    "/\t/evil.example",
    "/%09/evil.example",
    "/.//evil.example",
    "/a\nb",
    "/a%0Ab",
    "/a%0D%0ASet-Cookie:x=1",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "/%5Cevil.example",
    "/%5c%5cevil.example",
    "/%2F/evil.example",
    "%2F%2Fevil.example",
    "/%252F%252Fevil.example",
    "/%25252F%25252Fevil.example",
    "/%2509/evil.example",
    "/..//evil.example",
    "/./../..//evil.example",
    "/%2e%2e//evil.example",
    "https://evil.example/",
    "http:evil.example",
    "https:/evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    " /audit",
    "\t//evil.example",
    "/\u0000",
    "/%00",
    "/\u007f",
    "/\u0085evil",
    "/\u202e//evil.example",
    "/%E2%80%AE",
    "/\u200b/evil.example",
    "/\u2028",
    "/%",
    "/%zz",
    "",
    `/${"a".repeat(2001)}`,
  ];
  for (const next of HOSTILE) {
    it(`sends ${JSON.stringify(next).slice(0, 60)} home`, () => {
      expect(safeNextPath(next)).toBe("/");
    });
  }

  it("refuses what is not a string", () => {
    for (const v of [undefined, null, 1, ["/audit"], { toString: () => "/audit" }]) expect(safeNextPath(v)).toBe("/");
  });

  it("never returns anything a browser would take off this site, for 20,000 strings built from the tricky parts", () => {
    // A fixed seed: the same strings every run.
    let seed = 0x5eed;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const parts = [
      "/",
      "//",
      "\\",
      ".",
      "..",
      "%2F",
      "%2f",
      "%5C",
      "%25",
      "%09",
      "%0A",
      "%00",
      "\t",
      "\n",
      "\r",
      "\u0000",
      "\u202e",
      "evil.example",
      "@",
      ":",
      "?",
      "#",
      "a",
      "%2E",
      "https:",
      "%252F",
      " ",
      "\u3002",
      "\uff0f",
      "%E3%80%82",
    ];
    for (let i = 0; i < 20_000; i++) {
      let s = random() < 0.8 ? "/" : "";
      const n = 1 + Math.floor(random() * 6);
      for (let j = 0; j < n; j++) s += parts[Math.floor(random() * parts.length)];
      const out = safeNextPath(s);
      const url = landsOn(out);
      expect(url.origin, JSON.stringify(s)).toBe(OURS);
      expect(out, JSON.stringify(s)).toMatch(/^\/(?![/\\])[\x21-\x7e]*$/);
      // Decoded any number of times, it still reads as a path on this site.
      let layer = out;
      for (let k = 0; k < 4; k++) {
        try {
          layer = decodeURIComponent(layer);
        } catch {
          break;
        }
        expect(landsOn(layer).origin, JSON.stringify(s)).toBe(OURS);
      }
    }
  });
});
