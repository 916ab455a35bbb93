import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkTone, loadCheckFacts, TONE_BADGE } from "./check-status";

const check = (passed: boolean, evidence: Record<string, string | boolean>, skipped = false) => ({ passed, skipped, evidence });

describe("how a readiness check reads", () => {
  it("shows a load check that did not run in amber, never as a pass, and red when the setting makes it block", () => {
    expect(checkTone(check(true, { status: "passed" }))).toBe("passed");
    expect(checkTone(check(false, { status: "failed" }))).toBe("failed");
    expect(checkTone(check(true, { status: "not_run" }))).toBe("not_run");
    expect(TONE_BADGE[checkTone(check(true, { status: "not_run" }))]).toBe("badge-warn");
    expect(checkTone(check(false, { status: "not_run" }))).toBe("not_run_blocks");
    expect(checkTone(check(false, { status: "running" }))).toBe("running");
    expect(checkTone(check(true, {}, true))).toBe("skipped");
    expect(checkTone(check(true, {}))).toBe("passed");
  });

  it("says what the sandboxed load saw when it ran, and nothing when it did not", () => {
    expect(
      loadCheckFacts({
        ran: true,
        versions: { python: "3.11.2", sklearn: "1.2.1", joblib: "1.2.0" },
        loadMs: 41.5,
        predictMs: 2.3,
        method: "predict_proba",
        outputShape: [5, 2],
        min: 0.01234,
        max: 0.98765,
        python: "/usr/bin/python3.11",
      }),
    ).toEqual([
      ["Environment", "Python 3.11.2 · scikit-learn 1.2.1 · joblib 1.2.0"],
      ["Load", "41.5 ms"],
      ["predict_proba", "2.3 ms"],
      ["Output", "5×2 in [0.0123, 0.9877]"],
      ["Interpreter", "/usr/bin/python3.11"],
    ]);
    expect(loadCheckFacts({ python: "/usr/bin/python3" })).toEqual([]);
  });

  it("keeps amber text readable: WCAG AA (4.5:1) on the amber badge and on a card", () => {
    const css = readFileSync(join(__dirname, "../../app/globals.css"), "utf8");
    const colour = (name: string) => {
      const m = css.match(new RegExp(`--${name}:\\s*#([0-9a-f]{6}|[0-9a-f]{3});`, "i"));
      if (!m?.[1]) throw new Error(`no --${name} in globals.css`);
      return `#${m[1].length === 3 ? [...m[1]].map((c) => c + c).join("") : m[1]}`;
    };
    expect(contrast(colour("warn"), colour("warn-soft"))).toBeGreaterThanOrEqual(4.5);
    expect(contrast(colour("warn"), colour("card"))).toBeGreaterThanOrEqual(4.5);
  });
});

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}
