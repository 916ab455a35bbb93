import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type ChangeRequest,
  type ContentRef,
  findPreviousProduction,
  type ProductionChange,
  previousProduction as previousOnLine,
  scanRegistry,
} from "@/lib/registry";
import { fingerprint, PRODUCTION, removeRegistry, sha, tempRegistry } from "@/lib/registry/test-support/fixture";
import { eventHash, GENESIS } from "./chain";
import { closeAudit, databaseFile, openAudit } from "./db";
import { type Actor, allEvents, recordEvent } from "./log";
import { previousProduction, productionAtInstant, productionHistory, productionTimeline } from "./production-history";
import { release } from "@/lib/release";

const MIGRATIONS = resolve(__dirname, "../../prisma/migrations");
const alice: Actor = { name: "alice", role: "releaser", source: "web" };
const bob: Actor = { name: "bob", role: "releaser", source: "cli" };
// Versions of the fixture: A is production when the log begins; B and C pass every gate in turn.
const A = PRODUCTION;
const B = "candidate_logreg_20250422T163000Z";
const C = "candidate_logreg_20250709T120000Z";
const NEVER = "baseline_logreg_20250114T091500Z";
let root: string;

beforeEach(() => {
  delete process.env.DATABASE_URL;
  process.env.REGISTRY_MIGRATIONS_DIR = MIGRATIONS;
  root = tempRegistry();
});
afterEach(async () => {
  await closeAudit();
  removeRegistry(root);
});

const request = (kind: ChangeRequest["kind"], version: string, extra: Partial<ChangeRequest> = {}): ChangeRequest => ({
  kind,
  version,
  minScore: 0.6,
  overrides: [],
  reason: `${kind} ${version}`,
  ...extra,
});
const shaOf = (stem: string) => sha(join(root, `models/${stem}.joblib`));
const live = async (): Promise<ContentRef> => {
  const { production } = await scanRegistry(root);
  return { stem: production.stem, sha256: production.sha256 };
};
const previous = async () => (await previousProduction(openAudit(root), await live())).previous?.stem ?? null;

describe("the rollback rule, through the audit log", () => {
  it("refuses a rollback to a version never live, records why, writes nothing; promoted, it faces every gate", async () => {
    await release(root, request("promote", B), alice);
    const before = fingerprint(root);
    const outcome = await release(root, request("rollback", NEVER), alice);
    expect(outcome.status).toBe("refused");
    expect(outcome.plan).toMatchObject({ allowed: false, refusalCode: "never_live", rollback: { legitimate: false, code: "never_live" } });
    expect(outcome.plan.refusal).toMatch(/never production.*registry promote --version baseline_logreg_20250114T091500Z/);
    // The score gates are not skipped for it: they are evaluated as for a promotion.
    const minScore = outcome.plan.checks.find((c) => c.name === "min_score");
    expect(minScore).toMatchObject({ skipped: false, passed: false });
    expect(fingerprint(root)).toEqual(before);
    const refused = (await allEvents(openAudit(root))).at(-1);
    expect(refused).toMatchObject({ action: "model.rollback_refused", outcome: "refused", toStem: NEVER });
    const wasLive = JSON.parse(refused?.checks ?? "[]").find((c: { name: string }) => c.name === "was_live");
    expect(wasLive).toMatchObject({ passed: false, overridable: false, evidence: { finding: "never_live", timesLive: 0 } });
    expect(JSON.parse(refused?.details ?? "{}")).toMatchObject({ refusalCode: "never_live" });

    // The same version as a promotion: refused by the threshold, then put live with an override and a reason.
    expect((await release(root, request("promote", NEVER), alice)).plan.refusalCode).toBe("checks_failed");
    const overridden = request("promote", NEVER, {
      overrides: [
        { check: "min_score", reason: "hotfix" },
        { check: "no_degradation", reason: "hotfix" },
      ],
    });
    expect((await release(root, overridden, alice)).status).toBe("done");
    // Now it was live: going back to it later is a rollback.
    await release(root, request("promote", C), alice);
    const back = await release(root, request("rollback", NEVER), bob);
    expect(back.status).toBe("done");
    expect(back.plan.checks.filter((c) => c.skipped).map((c) => c.name)).toEqual(["min_score", "no_degradation"]);
  });

  it("counts the alias live when the log began (by content hash), and records the target's history as evidence", async () => {
    await release(root, request("promote", B), alice);
    const outcome = await release(root, request("rollback", A), bob);
    expect(outcome.status).toBe("done");
    expect(outcome.plan.rollback).toMatchObject({ legitimate: true, code: "was_live", total: 1 });
    expect(outcome.plan.rollback?.periods[0]).toMatchObject({ stem: A, sha256: shaOf(A), since: null, start: { how: "before_log" } });
    const done = (await allEvents(openAudit(root))).at(-1);
    const wasLive = JSON.parse(done?.checks ?? "[]")[0];
    expect(wasLive).toMatchObject({ name: "was_live", passed: true, evidence: { finding: "was_live", timesLive: 1 } });
    expect(wasLive.evidence.periods[0]).toMatchObject({
      stem: A,
      how: "before_log",
      summary: expect.stringMatching(/before the log began/),
    });
    // Back to B: it was live from its promotion until the rollback, put there by alice.
    const again = await release(root, request("rollback", B), bob);
    expect(again.plan.rollback?.periods[0]).toMatchObject({ stem: B, start: { how: "promoted", change: { actor: "alice" } } });
  });

  it("treats the version live now as live (nothing to roll back), even with an empty log", async () => {
    const outcome = await release(root, request("rollback", A), alice);
    expect(outcome).toMatchObject({ status: "noop", plan: { allowed: true, noop: true, rollback: { code: "live_now" } } });
  });

  it("counts bytes copied in by hand once a logged change recorded them live, and says so", async () => {
    await release(root, request("promote", B), alice);
    // Someone copies NEVER over the alias by hand; the next promotion records what it replaced.
    writeFileSync(join(root, "models/production_latest.joblib"), readFileSync(join(root, `models/${NEVER}.joblib`)));
    writeFileSync(join(root, "metrics/production_latest.json"), readFileSync(join(root, `metrics/${NEVER}.json`)));
    await release(root, request("promote", C), alice);
    const record = await productionHistory(openAudit(root)).liveRecord(shaOf(NEVER));
    expect(record.total).toBe(1);
    expect(record.periods[0]).toMatchObject({ stem: NEVER, start: { how: "outside_registry" } });
  });

  it("keeps a bounded number of periods as evidence and counts them all", async () => {
    for (let i = 0; i < 7; i++) {
      await release(root, request("promote", B), alice);
      await release(root, request("rollback", A), bob);
    }
    const record = await productionHistory(openAudit(root)).liveRecord(shaOf(A));
    expect(record.total).toBe(8);
    expect(record.periods).toHaveLength(8);
    expect(record.periods[0]?.until).toBeNull();
    expect(record.periods.at(-1)?.start).toEqual({ how: "before_log" });
    for (let i = 0; i < 3; i++) {
      await release(root, request("promote", B), alice);
      await release(root, request("rollback", A), bob);
    }
    const more = await productionHistory(openAudit(root)).liveRecord(shaOf(A));
    expect(more).toMatchObject({ total: 11 });
    expect(more.periods).toHaveLength(10);
  });
});

describe("previous production, through the audit log", () => {
  it("walks back along the line of promotions: C, then B, then A, then nothing", async () => {
    expect(await previous()).toBeNull();
    await release(root, request("promote", B), alice);
    await release(root, request("promote", C), alice);
    expect(await previous()).toBe(B);
    await release(root, request("rollback", B), bob);
    // Not C: the version live before B was promoted.
    expect(await previous()).toBe(A);
    await release(root, request("rollback", A), bob);
    const answer = await previousProduction(openAudit(root), await live());
    expect(answer.previous).toBeNull();
    expect(answer.explanation).toMatch(/since before the audit log began/);
  });

  it("reads a window of the log and answers as the whole log does", async () => {
    // A long synthetic log written straight into SQLite (chained, as the real one is).
    const file = databaseFile(root);
    openAudit(root);
    const conn = new Database(file);
    const names = ["A", "B", "C", "D", "E", "F"];
    let seed = 11;
    const random = (n: number) => {
      // mulberry32: small, deterministic, and even in its low bits.
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
    };
    const hash = (name: string) => createHash("sha256").update(name).digest("hex");
    const insert = conn.prepare(
      `INSERT INTO AuditEvent (seq, at, actor, role, source, action, outcome, correlationId, fromStem, fromSha256, toStem, toSha256, reason, checks, details, prevHash, hash)
       VALUES (@seq, @at, @actor, @role, @source, @action, @outcome, @correlationId, @fromStem, @fromSha256, @toStem, @toSha256, @reason, @checks, @details, @prevHash, @hash)`,
    );
    const changes: ProductionChange[] = [];
    let prev = GENESIS;
    let current = "A";
    conn.transaction(() => {
      for (let seq = 1; seq <= 1500; seq++) {
        // Between changes, the noise a real log holds: refusals and intents.
        const kind = random(3) === 0 ? "rollback" : "promote";
        const noise = random(2) === 0;
        const to = random(40) === 0 ? `N${seq}` : (names[random(names.length)] ?? "A");
        const e = {
          seq,
          at: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
          actor: "p",
          role: "releaser",
          source: "cli",
          action: noise ? "model.promotion_refused" : kind === "promote" ? "model.promoted" : "model.rolled_back",
          outcome: noise ? "refused" : "succeeded",
          correlationId: `c${seq}`,
          fromStem: current,
          fromSha256: hash(current),
          fromScore: null,
          toStem: to,
          toSha256: hash(to),
          toScore: null,
          metric: null,
          reason: null,
          checks: "[]",
          details: "{}",
        };
        const h = eventHash(prev, e);
        insert.run({ ...e, prevHash: prev, hash: h });
        prev = h;
        if (noise) continue;
        changes.push({
          seq,
          at: e.at,
          kind,
          recovered: false,
          actor: "p",
          reason: null,
          correlationId: e.correlationId,
          from: { stem: current, sha256: hash(current) },
          to: { stem: to, sha256: hash(to) },
          score: null,
          metric: null,
        });
        current = to;
      }
    })();
    // Cut the log back to after each of some rollbacks (the hard case) and compare there.
    const cuts = changes
      .filter((c) => c.kind === "rollback")
      .slice(-12)
      .reverse();
    let mostReads = 0;
    for (const cut of cuts) {
      conn.prepare("DELETE FROM AuditEvent WHERE seq > ?").run(cut.seq);
      const upTo = changes.filter((c) => c.seq <= cut.seq);
      const now = cut.to;
      const whole = previousOnLine({ changes: upTo, complete: true, earlier: new Map() }, now);
      if (whole.status !== "known") throw new Error("the whole log must decide");
      let reads = 0;
      const source = productionHistory(openAudit(root));
      const counted = {
        ...source,
        newest: (n: number) => {
          reads++;
          return source.newest(n);
        },
      };
      const windowed = await findPreviousProduction(counted, now, 4);
      expect(windowed.previous?.sha256 ?? null).toBe(whole.previous?.sha256 ?? null);
      expect(windowed.explanation).toBe(whole.explanation);
      expect((await previousProduction(openAudit(root), now)).previous?.sha256 ?? null).toBe(whole.previous?.sha256 ?? null);
      mostReads = Math.max(mostReads, reads);
    }
    conn.close();
    expect(cuts.length).toBeGreaterThan(5);
    // Some answers needed more than the first window (so the widening was exercised).
    expect(mostReads).toBeGreaterThan(1);
  });

  it("classifies a change completed at start-up by its kind, and knows the bytes it replaced", async () => {
    const db = openAudit(root);
    await release(root, request("promote", B), alice);
    // A rollback to A interrupted after its journal (the next start completes it) and an old-style repair
    // event with neither the kind nor the replaced bytes' hash, matched to its intent.
    await recordEvent(db, bob, {
      action: "model.rollback_started",
      outcome: "intent",
      correlationId: "old-repair",
      from: { stem: B, sha256: shaOf(B), score: null },
      to: { stem: A, sha256: shaOf(A), score: null },
    });
    await recordEvent(db, bob, {
      action: "model.change_recovered",
      outcome: "recovered",
      correlationId: "old-repair",
      from: { stem: B, sha256: null, score: null },
      to: { stem: A, sha256: shaOf(A), score: null },
    });
    writeFileSync(join(root, "models/production_latest.joblib"), readFileSync(join(root, `models/${A}.joblib`)));
    writeFileSync(join(root, "metrics/production_latest.json"), readFileSync(join(root, `metrics/${A}.json`)));
    const timeline = await productionTimeline(db);
    expect(timeline.periods[0]).toMatchObject({ stem: A, start: { how: "rolled_back", change: { recovered: true } } });
    expect(timeline.periods[1]).toMatchObject({ stem: B, endedOutside: false });
    // A rollback: so "previous" of A is not B (it would undo the rollback).
    expect(await previous()).toBeNull();
  });
});

describe("production at time T", () => {
  it("answers before the log began, at each change to the millisecond, between changes and after the last", async () => {
    const db = openAudit(root);
    expect(await productionAtInstant(db, "2026-03-01T12:00:00.000Z")).toEqual({ status: "no_record" });
    await release(root, request("promote", B), alice);
    await release(root, request("promote", C, { reason: "better recall" }), bob);
    const [b, c] = (await allEvents(db)).filter((e) => e.action === "model.promoted");
    if (!b || !c) throw new Error("two promotions expected");
    const justBefore = (iso: string) => new Date(Date.parse(iso) - 1).toISOString();

    const early = await productionAtInstant(db, "2000-01-01T00:00:00.000Z");
    expect(early).toMatchObject({ status: "found", period: { stem: A, sha256: shaOf(A), start: { how: "before_log" }, until: b.at } });
    expect(await productionAtInstant(db, justBefore(b.at))).toMatchObject({ period: { stem: A } });
    expect(await productionAtInstant(db, b.at)).toMatchObject({ period: { stem: B, since: b.at, until: c.at } });
    if (Date.parse(c.at) > Date.parse(b.at)) {
      expect(await productionAtInstant(db, justBefore(c.at))).toMatchObject({ period: { stem: B } });
    }
    const later = await productionAtInstant(db, "2999-01-01T00:00:00.000Z");
    expect(later).toMatchObject({
      status: "found",
      period: { stem: C, sha256: shaOf(C), until: null, start: { how: "promoted", change: { actor: "bob", reason: "better recall" } } },
    });
  });

  it("shows the newest periods on the timeline and the one before the log began", async () => {
    const db = openAudit(root);
    for (let i = 0; i < 3; i++) {
      await release(root, request("promote", B), alice);
      await release(root, request("rollback", A), bob);
    }
    const short = await productionTimeline(db, 4);
    expect(short.periods.map((p) => p.stem)).toEqual([A, B, A, B]);
    expect(short).toMatchObject({ truncated: true, beforeLog: { stem: A, sha256: shaOf(A), start: { how: "before_log" } } });
    const whole = await productionTimeline(db, 50);
    expect(whole).toMatchObject({ truncated: false, beforeLog: null });
    expect(whole.periods.at(-1)).toMatchObject({ stem: A, start: { how: "before_log" } });
    expect(whole.periods).toHaveLength(7);
  });
});
