import { resolve } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";
import { closeAudit, databaseFile, openAudit } from "./db";
import { allEvents, recordEvent, verifyStoredChain } from "./log";
import {
  countingRefusals,
  flushRefusals,
  flushRefusalsLater,
  MANY_ADDRESSES,
  MAX_ANONYMOUS_WINDOWS,
  ONE_BY_ONE,
  type Refusal,
  recordRefusal,
  WINDOW_MS,
} from "./refusals";

const MIGRATIONS = resolve(__dirname, "../../prisma/migrations");
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

// The clock is a parameter: minutes pass without waiting for them.
const T0 = Date.parse("2026-12-04T10:00:05.000Z");
const at = (ms: number) => new Date(T0 + ms);
const anonymous = (address = "203.0.113.7", action = "model.apply"): Refusal => ({
  kind: "auth.denied",
  user: null,
  address,
  action,
  reason: `Refused ${action}: not signed in.`,
  details: { permission: "model.promote" },
});
const viewer: Refusal = {
  kind: "auth.denied",
  user: { name: "vic", role: "viewer" },
  address: "198.51.100.2",
  action: "model.apply",
  reason: "Refused model.apply: vic (viewer) may not model.promote.",
  details: { permission: "model.promote" },
};

/** Every refusal the log accounts for, for one actor and action: chained one by one, summarised, or still counted. */
async function accountedFor(actor: string, action = "model.apply"): Promise<number> {
  const db = openAudit(root);
  let total = 0;
  for (const e of await allEvents(db)) {
    if (e.actor !== actor) continue;
    const d = JSON.parse(e.details) as { action?: string; count?: number };
    if (d.action !== action) continue;
    if (e.action === "auth.denied") total += 1;
    if (e.action === "auth.denied_aggregated") total += d.count ?? 0;
  }
  for (const w of (await countingRefusals(db, 10_000)).windows) if (w.actor === actor && w.action === action) total += w.pending;
  return total;
}

describe("anonymous refusals", () => {
  it("chain the first of a minute at once, count the rest, and summarise them once the minute has closed", async () => {
    const db = openAudit(root);
    const outcomes = [];
    for (let i = 0; i < 600; i++) outcomes.push(await recordRefusal(db, anonymous(), at(i * 50)));
    expect(outcomes.filter((o) => o === "recorded")).toHaveLength(1);
    expect(await allEvents(db)).toHaveLength(1);
    expect(await accountedFor("anonymous")).toBe(600);
    expect((await countingRefusals(db)).windows).toMatchObject([{ actor: "anonymous", address: "203.0.113.7", pending: 599, seen: 600 }]);

    // Nothing is summarised while the minute (and a short grace after it) is still open.
    expect(await flushRefusals(db, at(WINDOW_MS))).toBe(0);
    // The next refusal, minutes later, writes the summary first, then itself.
    await recordRefusal(db, anonymous(), at(5 * WINDOW_MS));
    const events = await allEvents(db);
    expect(events.map((e) => e.action)).toEqual(["auth.denied", "auth.denied_aggregated", "auth.denied"]);
    const summary = events[1];
    expect(JSON.parse(summary?.details ?? "{}")).toMatchObject({
      action: "model.apply",
      address: "203.0.113.7",
      permission: "model.promote",
      count: 599,
      inWindow: 600,
      oneByOne: 1,
      window: { from: "2026-12-04T10:00:00.000Z", to: "2026-12-04T10:01:00.000Z" },
    });
    expect(summary?.reason).toMatch(
      /^599 more like this from 203\.0\.113\.7 in the minute from 10:00 UTC \(600 in that minute, 1 recorded/,
    );
    expect(summary?.actor).toBe("anonymous");
    expect(await accountedFor("anonymous")).toBe(601);
    expect(await verifyStoredChain(db)).toMatchObject({ ok: true, count: 3 });
  });

  it("count each address and action apart", async () => {
    const db = openAudit(root);
    for (let i = 0; i < 10; i++) {
      await recordRefusal(db, anonymous("203.0.113.7"), at(i));
      await recordRefusal(db, anonymous("203.0.113.8"), at(i));
      await recordRefusal(db, anonymous("203.0.113.7", "user.create"), at(i));
    }
    expect((await allEvents(db)).map((e) => JSON.parse(e.details).address)).toEqual(["203.0.113.7", "203.0.113.8", "203.0.113.7"]);
    expect(await accountedFor("anonymous")).toBe(20);
    expect(await accountedFor("anonymous", "user.create")).toBe(10);
  });

  it("made up addresses buy no more than a few rows a minute: past the cap they share one count", async () => {
    const db = openAudit(root);
    for (let i = 0; i < 500; i++) await recordRefusal(db, anonymous(`10.0.${i >> 8}.${i & 255}`), at(i));
    const events = await allEvents(db);
    expect(events).toHaveLength(MAX_ANONYMOUS_WINDOWS + 1);
    expect(JSON.parse(events.at(-1)?.details ?? "{}").address).toBe(MANY_ADDRESSES);
    expect(await accountedFor("anonymous")).toBe(500);
    // A known address keeps its own window even once the cap is reached.
    await recordRefusal(db, anonymous("10.0.0.3"), at(600));
    expect((await countingRefusals(db)).windows.find((w) => w.address === "10.0.0.3")?.pending).toBe(1);
  });

  it("stay linear and counted exactly under 50 concurrent refusals", async () => {
    const db = openAudit(root);
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => recordRefusal(db, anonymous(), at(0))));
    expect(outcomes.filter((o) => o === "recorded")).toHaveLength(1);
    expect(await accountedFor("anonymous")).toBe(50);
    expect((await verifyStoredChain(db)).ok).toBe(true);
  });
});

describe("signed-in refusals", () => {
  it("are chained by name a few a minute, then counted and summarised under the same name", async () => {
    const db = openAudit(root);
    for (let i = 0; i < 60; i++) await recordRefusal(db, viewer, at(i * 100));
    expect(await allEvents(db)).toHaveLength(ONE_BY_ONE.signedIn);
    expect((await allEvents(db)).every((e) => e.actor === "vic" && e.role === "viewer")).toBe(true);
    await flushRefusals(db, at(3 * WINDOW_MS));
    const summary = (await allEvents(db)).at(-1);
    expect(summary).toMatchObject({ action: "auth.denied_aggregated", actor: "vic", role: "viewer" });
    expect(JSON.parse(summary?.details ?? "{}")).toMatchObject({ count: 55, inWindow: 60, oneByOne: 5 });
    expect(await accountedFor("vic")).toBe(60);
    expect((await countingRefusals(db)).windows).toEqual([]);
  });

  it("a window with nothing beyond its one-by-one rows is forgotten without a summary", async () => {
    const db = openAudit(root);
    for (let i = 0; i < 3; i++) await recordRefusal(db, viewer, at(i));
    expect(await flushRefusals(db, at(3 * WINDOW_MS))).toBe(0);
    expect((await allEvents(db)).map((e) => e.action)).toEqual(["auth.denied", "auth.denied", "auth.denied"]);
    expect(await openAudit(root).refusalWindow.count()).toBe(0);
  });
});

describe("summaries", () => {
  it("are written once when a summary writer died after writing one and before noting it", async () => {
    const db = openAudit(root);
    for (let i = 0; i < 30; i++) await recordRefusal(db, anonymous(), at(i));
    const w = await db.refusalWindow.findFirstOrThrow();
    // The dead writer: it claimed the window, chained the summary, and stopped.
    await db.refusalWindow.update({ where: { id: w.id }, data: { claim: "dead", claimedAt: at(2 * WINDOW_MS).toISOString() } });
    await recordEvent(
      db,
      { name: "anonymous", role: "none", source: "web" },
      {
        action: "auth.denied_aggregated",
        outcome: "refused",
        correlationId: `refusals-${w.id}-s0`,
        reason: "summary written by a writer that then died",
        details: { action: "model.apply", count: 29 },
      },
    );
    // While its claim is fresh nobody else writes; once stale, the window is finished without a second summary.
    expect(await flushRefusals(db, at(2 * WINDOW_MS + 1000))).toBe(0);
    expect(await db.refusalWindow.count()).toBe(1);
    expect(await flushRefusals(db, at(10 * WINDOW_MS))).toBe(0);
    expect(await db.refusalWindow.count()).toBe(0);
    expect((await allEvents(db)).filter((e) => e.action === "auth.denied_aggregated")).toHaveLength(1);
    expect(await accountedFor("anonymous")).toBe(30);
  });

  it("are written when a writer died before writing, and refusals that arrive late are summarised later", async () => {
    const db = openAudit(root);
    for (let i = 0; i < 10; i++) await recordRefusal(db, anonymous(), at(i));
    const w = await db.refusalWindow.findFirstOrThrow();
    await db.refusalWindow.update({ where: { id: w.id }, data: { claim: "dead", claimedAt: at(0).toISOString() } });
    expect(await flushRefusals(db, at(10 * WINDOW_MS))).toBe(1);
    // A refusal computed for that minute but landing after its window was finished starts the window afresh.
    await recordRefusal(db, anonymous(), at(30));
    expect(await accountedFor("anonymous")).toBe(11);
    await flushRefusals(db, at(20 * WINDOW_MS));
    expect(await accountedFor("anonymous")).toBe(11);
    expect((await verifyStoredChain(db)).ok).toBe(true);
  });
});

describe("summaries without a later refusal", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("are written by the server's timer once the minute has closed, and the timer stops when nothing is left", async () => {
    // Fake clock and timeouts only: the database calls run for real.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: T0 });
    const db = openAudit(root);
    for (let i = 0; i < 40; i++) await recordRefusal(db, anonymous());
    flushRefusalsLater(db);
    flushRefusalsLater(db); // one timer per database, however many refusals ask
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(2 * WINDOW_MS);
    await vi.waitFor(async () => expect((await allEvents(db)).map((e) => e.action)).toEqual(["auth.denied", "auth.denied_aggregated"]));
    expect(await accountedFor("anonymous")).toBe(40);
    expect(await db.refusalWindow.count()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("many closed windows are all summarised by one flush", async () => {
    const db = openAudit(root);
    for (let i = 0; i < 120; i++)
      for (let k = 0; k < 2; k++) await recordRefusal(db, { ...viewer, user: { name: `u${i}`, role: "viewer" } }, at(0));
    expect(await db.refusalWindow.count()).toBe(120);
    await flushRefusals(db, at(5 * WINDOW_MS));
    expect(await db.refusalWindow.count()).toBe(0);
  });
});

describe("what a refusal row may hold", () => {
  it("keeps attacker-shaped names and addresses out, and cuts everything to size", async () => {
    const db = openAudit(root);
    await recordRefusal(db, {
      kind: "auth.denied",
      user: null,
      address: `1.2.3.4\r\nX-Injected: ${"a".repeat(10_000)}`,
      action: `model.apply<script>${"x".repeat(10_000)}`,
      reason: "r".repeat(10_000),
      details: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}${"k".repeat(100)}`, "v".repeat(10_000)])),
    });
    const [e] = await allEvents(db);
    const d = JSON.parse(e?.details ?? "{}") as Record<string, unknown>;
    expect(d.address).toBe("unknown");
    expect(d.action).toBe("invalid");
    expect(e?.reason?.length).toBe(300);
    expect((e?.details.length ?? 0) < 4000).toBe(true);
    const w = await db.refusalWindow.findFirstOrThrow();
    expect(w.key.length).toBeLessThan(100);
  });

  it("RefusalWindow matches schema.prisma: every field round-trips through the client", async () => {
    const db = openAudit(root);
    const data = {
      key: "k",
      windowStart: "2026-01-01T00:00:00.000Z",
      kind: "auth.denied",
      anonymous: true,
      actor: "a",
      role: "r",
      address: "1.2.3.4",
      action: "model.apply",
      reason: "why",
      details: "{}",
      oneByOne: 1,
      seen: 3,
      written: 1,
      summarised: 2,
      firstAt: "2026-01-01T00:00:01.000Z",
      lastAt: "2026-01-01T00:00:02.000Z",
      claim: "c",
      claimedAt: "2026-01-01T00:00:03.000Z",
    };
    const created = await db.refusalWindow.create({ data });
    expect(await db.refusalWindow.findUniqueOrThrow({ where: { id: created.id } })).toEqual({ ...data, id: created.id });
    const raw = new Database(databaseFile(root), { readonly: true });
    expect(raw.prepare("SELECT anonymous FROM RefusalWindow").get()).toEqual({ anonymous: 1 });
    raw.close();
  });
});
