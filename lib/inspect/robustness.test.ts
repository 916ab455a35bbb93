import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { allowedGlobals } from "./allowlist";
import { decompress, detectContainer } from "./containers";
import { inspectBytes } from "./inspect";
import { modelFixtures, rawFixture, readFixture, rng } from "./test-support/fixtures";
import { type InspectionReport, resolveLimits, type Verdict } from "./types";

const VERDICTS: readonly Verdict[] = ["safe", "unsafe", "malformed", "unsupported"];
const ALLOWED = new Set(allowedGlobals());
// Tight limits keep mutated files from spending time on absurd declared sizes.
const LIMITS = { maxDecompressedBytes: 8 << 20, maxOpcodes: 200_000 };

/**
 * Inspects and returns the invariant violations (empty when fine). Plain checks rather than
 * expect() in these loops: tens of thousands of inspections must stay fast.
 */
function violations(bytes: Uint8Array): { report: InspectionReport | null; problems: string[] } {
  let report: InspectionReport;
  try {
    report = inspectBytes(bytes, LIMITS);
  } catch (error) {
    return { report: null, problems: [`threw ${(error as Error).message}`] };
  }
  const problems: string[] = [];
  if (!VERDICTS.includes(report.verdict)) problems.push(`verdict ${report.verdict}`);
  if (report.reason.length === 0) problems.push("empty reason");
  if (report.verdict === "safe") {
    // A safe verdict may only ever rest on exact allowlist entries.
    for (const g of report.globals) if (!ALLOWED.has(`${g.module}.${g.name}`)) problems.push(`safe with ${g.module}.${g.name}`);
  }
  if (report.verdict === "unsafe" && report.globals.every((g) => g.status === "allowed")) problems.push("unsafe without a bad global");
  return { report, problems };
}

/** Inspects, asserting the invariants every report must keep. */
function checked(bytes: Uint8Array): InspectionReport {
  const { report, problems } = violations(bytes);
  expect(problems).toEqual([]);
  return report as InspectionReport;
}

const fixtures = modelFixtures().map((m) => ({ name: m.path, bytes: readFixture(m) }));
const decompressed = (() => {
  const seen = new Map<string, Uint8Array>();
  for (const { bytes } of fixtures) {
    const raw = decompress(bytes, detectContainer(bytes), resolveLimits());
    seen.set(createHash("sha256").update(raw).digest("hex"), raw);
  }
  return [...seen.values()];
})();

describe("truncated files", () => {
  it("reports every truncation of every compressed fixture as malformed or unsupported", () => {
    const wrong: string[] = [];
    for (const { name, bytes } of fixtures) {
      for (let cut = 0; cut < bytes.length; cut += cut > bytes.length - 64 ? 1 : 3) {
        const { report, problems } = violations(bytes.subarray(0, cut));
        if (problems.length > 0 || (report?.verdict !== "malformed" && report?.verdict !== "unsupported")) {
          wrong.push(`${name} cut at ${cut}: ${report?.verdict} ${problems.join(", ")}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("reports every truncation of every decompressed pickle stream as malformed", () => {
    expect(decompressed.length).toBe(9); // nine distinct models (production_latest is a byte copy)
    const wrong: string[] = [];
    let cuts = 0;
    decompressed.forEach((raw, index) => {
      // Every offset of three streams (one per protocol in practice), every 7th of the rest.
      const step = index < 3 ? 1 : 7;
      for (let cut = 0; cut < raw.length; cut += step) {
        cuts++;
        const { report, problems } = violations(raw.subarray(0, cut));
        if (problems.length > 0 || report?.verdict !== "malformed") wrong.push(`stream ${index} cut at ${cut}: ${report?.verdict}`);
      }
    });
    expect(cuts).toBeGreaterThan(15_000);
    expect(wrong).toEqual([]);
  });
});

describe("mutated files", () => {
  const MUTATIONS = 3000;

  function mutate(source: Uint8Array, next: () => number): Uint8Array {
    const bytes = Array.from(source);
    const edits = 1 + Math.floor(next() * 4);
    for (let i = 0; i < edits; i++) {
      const at = Math.floor(next() * bytes.length);
      const kind = next();
      if (kind < 0.4) bytes[at] = (bytes[at] ?? 0) ^ (1 << Math.floor(next() * 8));
      else if (kind < 0.6) bytes[at] = Math.floor(next() * 256);
      else if (kind < 0.8) bytes.splice(at, 0, Math.floor(next() * 256));
      else bytes.splice(at, 1);
    }
    return Uint8Array.from(bytes);
  }

  it(`keeps its invariants on ${MUTATIONS} seeded mutations of compressed and decompressed fixtures`, () => {
    const next = rng(0x5eed);
    const sources = [...fixtures.map((f) => f.bytes), ...decompressed];
    const tally = new Map<Verdict, number>();
    for (let i = 0; i < MUTATIONS; i++) {
      const source = sources[i % sources.length] as Uint8Array;
      const report = checked(mutate(source, next));
      tally.set(report.verdict, (tally.get(report.verdict) ?? 0) + 1);
    }
    // The corpus must exercise more than one outcome, or the test proves little.
    expect(tally.get("malformed") ?? 0).toBeGreaterThan(MUTATIONS / 4);
    expect(tally.get("safe") ?? 0).toBeGreaterThan(0);
    expect(tally.get("unsafe") ?? 0).toBeGreaterThan(0);
  });

  it("turns every one-letter change to an imported module name into an unsafe verdict", () => {
    const raw = rawFixture(2);
    const text = Buffer.from(raw).toString("latin1");
    const modules = [...text.matchAll(/c([a-z_.]+)\n([A-Za-z_]+)\n/g)];
    expect(modules.length).toBeGreaterThan(5);
    for (const match of modules) {
      const at = (match.index ?? 0) + 2; // second letter of the module name
      const bytes = raw.slice();
      bytes[at] = bytes[at] === 0x71 ? 0x72 : 0x71; // "q" or "r": never a valid rename
      const report = checked(bytes);
      expect(report.verdict, match[1]).toBe("unsafe");
      expect(report.globals.some((g) => g.status === "unknown")).toBe(true);
    }
  });
});

describe("random input", () => {
  it("never throws on random bytes, bare or behind every container magic", () => {
    const next = rng(42);
    const prefixes = [
      [],
      [0x80, 0x04],
      [0x80, 0x02],
      [0x78, 0x9c],
      [0x1f, 0x8b, 8, 0],
      [0x42, 0x5a, 0x68, 0x39],
      [0x5d, 0, 0],
      [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0],
      [0x04, 0x22, 0x4d, 0x18],
    ];
    for (let i = 0; i < 900; i++) {
      const prefix = prefixes[i % prefixes.length] as number[];
      const body = Array.from({ length: Math.floor(next() * 2048) }, () => Math.floor(next() * 256));
      const report = checked(Uint8Array.from([...prefix, ...body]));
      expect(report.verdict).not.toBe("safe");
    }
  });
});
