import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageChannel } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMetricsFiles } from "../metrics-file";
import { type PackedReads, packedBuffers, packedFacts, packReads, readSharedMetricsFiles, unpackRead } from "./shared-reads";

describe("packReads and unpackRead", () => {
  let root: string;
  // Every kind of read a worker can send back: scores under each metric, no score, broken files, a gap.
  const files: Record<string, string | null> = {
    "metrics/a.json": '{"metrics": {"pr_auc": 0.71, "roc_auc": 0.9}}',
    "metrics/b.json": '{"roc_auc": 0.8}',
    "metrics/c.json": '{"accuracy": 1e-7}',
    "metrics/d.json": '{"note": "no score"}',
    "metrics/e.json": "{not json",
    "metrics/f.json": "[1, 2]",
    "metrics/g.json": null,
    "metrics/h.json": '{"f1": NaN, "average_precision": -0.5}',
  };
  const list = [...Object.keys(files), "", "metrics/missing.json", "metrics/link.json"];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "registry-batch-"));
    mkdirSync(join(root, "metrics"));
    const write = (file: string) => files[file] && writeFileSync(join(root, file), files[file]);
    for (const file of Object.keys(files)) if (file !== "metrics/b.json") write(file);
    symlinkSync(join(root, "metrics/a.json"), join(root, "metrics/link.json"));
    // Settled files (still for over a second, see settledAt; ctime cannot be set back) and one written just now.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    write("metrics/b.json");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  for (const detail of ["scores", "highlights", "documents"] as const) {
    it(`gives back exactly the ${detail} reads it packed, after a trip through a message port`, async () => {
      const reads = readMetricsFiles(root, list, detail);
      const packed = packReads(reads);
      const { port1, port2 } = new MessageChannel();
      const arrived = new Promise<PackedReads>((resolve) => port2.once("message", resolve));
      port1.postMessage(packed, packedBuffers(packed));
      const received = await arrived;
      port1.close();
      // Transferred, not copied: the sender's arrays are detached.
      expect(packed.stamps.length).toBe(0);
      const back = list.map((_, k) => unpackRead(received, k));
      expect(back).toEqual(reads);
      // The reads the packing exists for do travel packed.
      const whole = Object.keys(received.whole).map(Number);
      if (detail === "scores") expect(whole.sort((a, b) => a - b)).toEqual([4, 5, 6, 9, 10]);
      else expect(whole.length).toBe(list.filter((f) => f !== "").length);
    });
  }

  it("shares files with another thread: reads from the end back to the first file the other one claimed", () => {
    const claims = new Uint8Array(new SharedArrayBuffer(list.length));
    // The other thread, reading from the start, has claimed the first three.
    claims.fill(1, 0, 3);
    const packed = readSharedMetricsFiles(root, list, "scores", claims);
    expect([...claims]).toEqual(list.map(() => 1));
    const alone = readMetricsFiles(root, list, "scores");
    expect(list.map((_, k) => unpackRead(packed, k))).toEqual(alone.map((read, k) => (k < 3 ? null : read)));
    // Met in the middle: nothing before the other thread's last claim is read again.
    claims.fill(0).fill(1, 0, 6);
    claims[8] = 1;
    const met = readSharedMetricsFiles(root, list, "scores", claims);
    expect(list.map((_, k) => unpackRead(met, k) !== null)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
      true,
    ]);
  });

  it("gives memo facts only for a sound, settled, packed read", () => {
    const packed = packReads(readMetricsFiles(root, list, "scores"));
    const facts = list.map((_, k) => packedFacts(packed, k));
    expect(facts.map((f) => f !== null)).toEqual([true, false, true, true, false, false, false, true, false, false, false]);
    const read = unpackRead(packed, 0);
    expect(facts[0]).toEqual({ sha256: read?.sha256, score: 0.71, metric: "pr_auc", problem: null });
    expect(facts[3]).toEqual({ sha256: unpackRead(packed, 3)?.sha256, score: -1, metric: "unknown", problem: null });
  });

  it("reads what the scan expects: a score and its metric, the sha256, the stamp and whether it was settled", () => {
    const reads = readMetricsFiles(root, list, "scores");
    expect(reads.map((r) => r?.summary ?? null)).toEqual([
      { score: 0.71, metric: "pr_auc" },
      { score: 0.8, metric: "roc_auc" },
      { score: 1e-7, metric: "accuracy" },
      { score: -1, metric: "unknown" },
      null,
      null,
      null,
      { score: -0.5, metric: "average_precision" },
      null,
      null,
      null,
    ]);
    expect(reads.map((r) => r?.problem?.reason ?? null)).toEqual([
      null,
      null,
      null,
      null,
      "invalid_json",
      "not_object",
      "unreadable",
      null,
      null,
      "unreadable",
      "symlink",
    ]);
    expect(reads.map((r) => r?.settled ?? null)).toEqual([true, false, true, true, true, true, false, true, null, false, false]);
    expect(reads[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
