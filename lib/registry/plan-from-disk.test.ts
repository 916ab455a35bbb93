import { readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scanRegistry } from "./scan";
import { readMetricsBytes } from "./plan-from-disk";
import { BEST, removeRegistry, tempRegistry } from "./test-support/fixture";

let root: string;
beforeEach(() => {
  root = tempRegistry();
});
afterEach(() => removeRegistry(root));

describe("readMetricsBytes", () => {
  it("gives a listed version's own metrics file, byte for byte", async () => {
    const s = await scanRegistry(root);
    const best = s.versions.find((v) => v.stem === BEST)!;
    expect(readMetricsBytes(root, best)?.equals(readFileSync(join(root, `metrics/${BEST}.json`)))).toBe(true);
    const none = s.versions.find((v) => v.metricsFile === null)!;
    expect(readMetricsBytes(root, none)).toBeNull();
  });

  it("never reads a path other than the version's own file, a link or anything but a regular file", () => {
    writeFileSync(join(root, "secret.json"), "{}");
    expect(readMetricsBytes(root, { stem: BEST, metricsFile: "secret.json" })).toBeNull();
    expect(readMetricsBytes(root, { stem: BEST, metricsFile: `metrics/../secret.json` })).toBeNull();
    const file = join(root, `metrics/${BEST}.json`);
    rmSync(file);
    symlinkSync("/etc/passwd", file);
    expect(readMetricsBytes(root, { stem: BEST, metricsFile: `metrics/${BEST}.json` })).toBeNull();
    rmSync(file);
    symlinkSync("/dev/zero", file);
    expect(readMetricsBytes(root, { stem: BEST, metricsFile: `metrics/${BEST}.json` })).toBeNull();
  });
});
