import { describe, expect, it } from "vitest";
import { InvalidInputError } from "./errors";
import {
  type ChangeSource,
  type ContentRef,
  type EarlierFacts,
  findPreviousProduction,
  type HistoryWindow,
  type ProductionChange,
  parseInstant,
  periodsOf,
  previousProduction,
  productionAt,
  rollbackEligibility,
} from "./live-history";

/** Content "A" has sha256 "sha-A" and is recorded under stem "A". */
const v = (name: string): ContentRef => ({ stem: name, sha256: `sha-${name}` });

/** A log of changes written as ["promote", "A", "B"] (from A to B); times one minute apart from 10:00. */
function log(...steps: ["promote" | "rollback", string, string][]): ProductionChange[] {
  return steps.map(([kind, from, to], i) => ({
    seq: (i + 1) * 3,
    at: new Date(Date.UTC(2026, 2, 1, 10, i)).toISOString(),
    kind,
    recovered: false,
    actor: `person${i + 1}`,
    reason: `step ${i + 1}`,
    correlationId: `c${i + 1}`,
    from: v(from),
    to: v(to),
    score: null,
    metric: null,
  }));
}

const complete = (changes: ProductionChange[]): HistoryWindow => ({ changes, complete: true, earlier: new Map() });

/** previousProduction over the whole log, with production holding what the last change put there. */
function previousOf(changes: ProductionChange[], live = changes.at(-1)?.to ?? v("A")) {
  const answer = previousProduction(complete(changes), live);
  if (answer.status !== "known") throw new Error(`unexpected ${answer.status}`);
  return answer;
}

describe("previous production", () => {
  it("is the version live before the current one was promoted", () => {
    expect(previousOf(log(["promote", "A", "B"], ["promote", "B", "C"])).previous?.stem).toBe("B");
  });

  it("keeps walking back after a rollback to previous instead of undoing it: C, then B, then A, then nothing", () => {
    const steps: ["promote" | "rollback", string, string][] = [
      ["promote", "A", "B"],
      ["promote", "B", "C"],
    ];
    const seen: (string | null)[] = [];
    for (;;) {
      const answer = previousOf(log(...steps));
      seen.push(answer.previous?.stem ?? null);
      const prev = answer.previous?.stem;
      if (!prev) break;
      steps.push(["rollback", steps.at(-1)?.[2] ?? "", prev]);
    }
    // After rolling back from C to B, "previous" is A (what was live before B was promoted), never C.
    expect(seen).toEqual(["B", "A", null]);
  });

  it("says why there is nothing before a version that was live when the log began", () => {
    const answer = previousOf(log(["promote", "A", "B"], ["rollback", "B", "A"]));
    expect(answer.previous).toBeNull();
    expect(answer.current?.start).toEqual({ how: "before_log" });
    expect(answer.explanation).toMatch(/since before the audit log began/);
  });

  it("walks back through a version promoted twice without ping-ponging between two versions", () => {
    // Line of promotions: A, B, C, B (promoted again), D. Rolling back step by step visits B, C, B, A.
    const steps: ["promote" | "rollback", string, string][] = [
      ["promote", "A", "B"],
      ["promote", "B", "C"],
      ["promote", "C", "B"],
      ["promote", "B", "D"],
    ];
    const seen: string[] = [];
    for (let prev = previousOf(log(...steps)).previous?.stem; prev; prev = previousOf(log(...steps)).previous?.stem) {
      seen.push(prev);
      steps.push(["rollback", steps.at(-1)?.[2] ?? "", prev]);
    }
    expect(seen).toEqual(["B", "C", "B", "A"]);
  });

  it("starts a new line at a promotion made after a rollback", () => {
    const changes = log(["promote", "A", "B"], ["promote", "B", "C"], ["rollback", "C", "B"], ["promote", "B", "D"]);
    expect(previousOf(changes).previous?.stem).toBe("B");
    expect(previousOf([...changes, ...log(["rollback", "D", "B"]).map((c) => ({ ...c, seq: 99 }))]).previous?.stem).toBe("A");
  });

  it("after a rollback to a version off the current line, uses the line as it stood after that version's promotion", () => {
    // C's line was A, B, C; after rolling back to B and promoting D, an explicit rollback to C lands there.
    const changes = log(
      ["promote", "A", "B"],
      ["promote", "B", "C"],
      ["rollback", "C", "B"],
      ["promote", "B", "D"],
      ["rollback", "D", "C"],
    );
    expect(previousOf(changes).previous?.stem).toBe("B");
  });

  it("counts bytes copied into production by hand as one more step of the line", () => {
    // Someone copied X over the alias after B went live; then X was promoted away to C.
    const changes = log(["promote", "A", "B"], ["promote", "X", "C"]);
    const answer = previousOf(changes);
    expect(answer.previous).toMatchObject({ stem: "X", start: { how: "outside_registry" } });
    // And a hand copy after the last change: the version before it is the last one the log put live.
    const now = previousOf(log(["promote", "A", "B"]), v("Y"));
    expect(now.current).toMatchObject({ stem: "Y", start: { how: "outside_registry" } });
    expect(now.previous?.stem).toBe("B");
  });

  it("knows nothing without a logged change", () => {
    const answer = previousOf([], v("A"));
    expect(answer.previous).toBeNull();
    expect(answer.explanation).toMatch(/no change of production/);
  });

  it("asks for older changes or facts about a content hash when the window is too short to decide", () => {
    const changes = log(["promote", "A", "B"], ["promote", "B", "C"], ["promote", "C", "D"], ["rollback", "D", "B"]);
    const window = (from: number, earlier: [string, EarlierFacts][] = []): HistoryWindow => ({
      changes: changes.slice(from),
      complete: from === 0,
      earlier: new Map(earlier),
    });
    // After a promotion the answer is the promotion's own "from": no older change needed.
    expect(previousProduction({ ...window(2), changes: changes.slice(2, 3) }, v("D"))).toMatchObject({ previous: { stem: "C" } });
    // The rollback's target is not on the part of the line the window shows: was it ever seen before?
    expect(previousProduction(window(3), v("B"))).toEqual({ status: "need_earlier", sha256: "sha-B" });
    // It was, so the line above the window decides: older changes are needed.
    const seen = { seen: true, promotion: changes[0] ?? null };
    expect(previousProduction(window(3, [["sha-B", seen]]), v("B"))).toEqual({ status: "need_older" });
    expect(previousProduction(window(1), v("B"))).toEqual({ status: "need_older" });
    expect(previousProduction(window(0), v("B"))).toMatchObject({ status: "known", previous: { stem: "A" } });
    // Bytes never seen before the window cannot be on the line above it: decided without older changes.
    const fresh = log(["promote", "A", "B"], ["rollback", "B", "N"]);
    const never = { changes: fresh.slice(1), complete: false, earlier: new Map([["sha-N", { seen: false, promotion: null }]]) };
    expect(previousProduction(never, v("N"))).toMatchObject({ status: "known", previous: null });
  });

  it("reads only as far back as it must, and answers as the whole log does (random logs)", async () => {
    let seed = 7;
    const random = (n: number) => {
      // mulberry32: small, deterministic, and even in its low bits.
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
    };
    const names = ["A", "B", "C", "D", "E"];
    for (let run = 0; run < 300; run++) {
      const steps: ["promote" | "rollback", string, string][] = [];
      let live = "A";
      for (let i = 0, n = 1 + random(40); i < n; i++) {
        // Now and then bytes nothing recorded before (a rollback to one of them starts a new line).
        const to = random(12) === 0 ? `N${run}-${i}` : (names[random(names.length)] ?? "A");
        // Now and then a hand copy: the next change starts from bytes the last one did not put there.
        const from = random(10) === 0 ? "X" : live;
        steps.push([random(3) === 0 ? "rollback" : "promote", from, to]);
        live = to;
      }
      const changes = log(...steps);
      const whole = previousOf(changes);
      let reads = 0;
      const source: ChangeSource = {
        newest: async (count) => {
          reads++;
          return { changes: changes.slice(-count), complete: count >= changes.length };
        },
        earlier: async (shas, before) => {
          const older = changes.filter((c) => c.seq < before);
          return new Map(
            shas.map((sha) => [
              sha,
              {
                seen: older.some((c) => c.to.sha256 === sha || c.from.sha256 === sha),
                promotion: older.filter((c) => c.kind === "promote" && c.to.sha256 === sha).at(-1) ?? null,
              },
            ]),
          );
        },
      };
      const windowed = await findPreviousProduction(source, changes.at(-1)?.to ?? v("A"), 2);
      expect({ previous: windowed.previous?.stem ?? null, sha: windowed.previous?.sha256 ?? null }).toEqual({
        previous: whole.previous?.stem ?? null,
        sha: whole.previous?.sha256 ?? null,
      });
      expect(reads).toBeLessThanOrEqual(4);
    }
  });
});

describe("the rollback rule", () => {
  const changes = log(["promote", "A", "B"], ["promote", "B", "C"]);
  const live = (name: string) => ({ stem: name, sha256: `sha-${name}`, state: "ok" });
  const periods = (name: string) => {
    const all = periodsOf(changes, { first: true, last: true }).filter((p) => p.sha256 === `sha-${name}`);
    return { periods: all.reverse(), total: all.length };
  };

  it("accepts bytes the log recorded live, with when and by whom", () => {
    const b = rollbackEligibility({ stem: "B", sha256: "sha-B" }, live("C"), periods("B"));
    expect(b).toMatchObject({ legitimate: true, code: "was_live", total: 1 });
    expect(b.periods[0]).toMatchObject({ since: changes[0]?.at, until: changes[1]?.at, start: { how: "promoted" } });
    expect(b.explanation).toMatch(/promoted by person1 \(event #3\)/);
  });

  it("accepts the alias that was live when the log began (a hand copy recorded live by the first change)", () => {
    const a = rollbackEligibility({ stem: "A", sha256: "sha-A" }, live("C"), periods("A"));
    expect(a).toMatchObject({ legitimate: true, code: "was_live" });
    expect(a.periods[0]?.start).toEqual({ how: "before_log" });
    expect(a.explanation).toMatch(/before the log began/);
  });

  it("refuses bytes never live, and says to promote instead", () => {
    const n = rollbackEligibility({ stem: "N", sha256: "sha-N" }, live("C"), periods("N"));
    expect(n).toMatchObject({ legitimate: false, code: "never_live", total: 0 });
    expect(n.explanation).toMatch(/never production.*promote it instead, with every readiness check/);
  });

  it("accepts the version live now without a record only when there is nothing to write", () => {
    const none = { periods: [], total: 0 };
    const n = { stem: "N", sha256: "sha-N" };
    expect(rollbackEligibility(n, { stem: "N", sha256: "sha-N", state: "ok" }, none)).toMatchObject({ legitimate: true, code: "live_now" });
    // A hand copy of the model alias alone: a "rollback" would complete it without any gate. Refused.
    expect(rollbackEligibility(n, { stem: "N", sha256: "sha-N", state: "mismatched" }, none)).toMatchObject({
      legitimate: false,
      code: "never_live",
    });
  });
});

describe("periods and production at time T", () => {
  const changes = log(["promote", "A", "B"], ["promote", "B", "C"], ["rollback", "C", "B"]);
  const at = (minute: number, second = 0) => new Date(Date.UTC(2026, 2, 1, 10, minute, second)).toISOString();

  it("covers the time before the first change, each change until the next, and now", () => {
    const periods = periodsOf(changes, { first: true, last: true });
    expect(periods.map((p) => [p.stem, p.start.how, p.since, p.until])).toEqual([
      ["A", "before_log", null, at(0)],
      ["B", "promoted", at(0), at(1)],
      ["C", "promoted", at(1), at(2)],
      ["B", "rolled_back", at(2), null],
    ]);
    // A slice in the middle of the log: no "before", and no period whose end lies beyond it.
    expect(periodsOf(changes.slice(0, 2), { first: false, last: false }).map((p) => p.stem)).toEqual(["B"]);
  });

  it("marks a hand copy between two changes", () => {
    const periods = periodsOf(log(["promote", "A", "B"], ["promote", "X", "C"]), { first: true, last: true });
    expect(periods.map((p) => [p.stem, p.start.how, p.endedOutside])).toEqual([
      ["A", "before_log", false],
      ["B", "promoted", true],
      ["X", "outside_registry", false],
      ["C", "promoted", false],
    ]);
  });

  it("answers by the instant: before the log, at a change to the millisecond, between changes, after the last", () => {
    const whole = { first: true, last: true };
    const stemAt = (t: string) => {
      const r = productionAt(changes, whole, t);
      return r.status === "found" ? [r.period.stem, r.period.start.how] : r.status;
    };
    expect(stemAt("2020-01-01T00:00:00.000Z")).toEqual(["A", "before_log"]);
    expect(stemAt(new Date(Date.parse(at(0)) - 1).toISOString())).toEqual(["A", "before_log"]);
    expect(stemAt(at(0))).toEqual(["B", "promoted"]);
    expect(stemAt(at(1, 30))).toEqual(["C", "promoted"]);
    expect(stemAt("2099-01-01T00:00:00.000Z")).toEqual(["B", "rolled_back"]);
    expect(productionAt([], whole, at(0))).toEqual({ status: "no_record" });
  });

  it("says when a hand copy makes the answer uncertain", () => {
    const changes = log(["promote", "A", "B"], ["promote", "X", "C"]);
    const r = productionAt(changes, { first: true, last: true }, at(0, 30));
    expect(r).toMatchObject({ status: "found", period: { stem: "B" }, uncertain: { stem: "X", start: { how: "outside_registry" } } });
  });
});

describe("parseInstant", () => {
  it("reads ISO 8601 with a zone into UTC with milliseconds", () => {
    expect(parseInstant("2026-03-01T12:00:00Z")).toBe("2026-03-01T12:00:00.000Z");
    expect(parseInstant("2026-03-01T14:00:00+02:00")).toBe("2026-03-01T12:00:00.000Z");
    expect(parseInstant("2026-03-01T00:30-01:30")).toBe("2026-03-01T02:00:00.000Z");
    expect(parseInstant("2026-03-01T12:00:00.5Z")).toBe("2026-03-01T12:00:00.500Z");
    expect(parseInstant("2024-02-29T23:59:59.999999Z")).toBe("2024-02-29T23:59:59.999Z");
  });

  it("reads a zoneless date-time as UTC only when asked to (the browser's picker)", () => {
    expect(parseInstant("2026-03-01T12:00", { zoneless: "utc" })).toBe("2026-03-01T12:00:00.000Z");
    expect(() => parseInstant("2026-03-01T12:00:00")).toThrow(/has no zone/);
  });

  it.each([
    "",
    "yesterday",
    "2026-03-01",
    "2026-03-01 12:00:00Z",
    "2026-3-1T12:00:00Z",
    "2026-02-29T12:00:00Z",
    "2026-04-31T12:00:00Z",
    "2026-13-01T12:00:00Z",
    "2026-03-01T24:00:00Z",
    "2026-03-01T12:60:00Z",
    "2026-03-01T12:00:60Z",
    "2026-03-01T12:00:00+24:00",
    "2026-03-01T12:00:00+0200",
    "1772366400",
    "2026-03-01T12:00:00Z\n",
  ])("refuses %j with a clear message", (text) => {
    expect(() => parseInstant(text, { label: "--at" })).toThrow(InvalidInputError);
    expect(() => parseInstant(text, { label: "--at" })).toThrow(/^--at .* e\.g\. 2026-03-01T12:00:00Z/);
  });
});
