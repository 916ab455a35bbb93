import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProductionChangedError, scanRegistry } from "@/lib/registry";
import { BEST, fingerprint, PRODUCTION, removeRegistry, sha, tempRegistry } from "@/lib/registry/test-support/fixture";
import { closeAudit, databaseFile, openAudit } from "./db";
import { exportHead, exportText, toCsvExport, toJsonExport, verifyExport } from "./export";
import { type Actor, allEvents, listEvents, recordEvent, verifyStoredChain } from "./log";
import { MigrationError, migrateDatabase } from "./migrate";
import { previousProduction } from "./production-history";
import { release, repairOnStart } from "@/lib/release";

const MIGRATIONS = resolve(__dirname, "../../prisma/migrations");
const alice: Actor = { name: "alice", role: "releaser", source: "web" };
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

const raw = () => new Database(databaseFile(root));

describe("migrations", () => {
  it("creates the database on first use and records each migration as Prisma does", () => {
    openAudit(root);
    const db = raw();
    const rows = db.prepare(`SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"`).all() as {
      migration_name: string;
      checksum: string;
      finished_at: number;
    }[];
    db.close();
    const names = readdirSync(MIGRATIONS)
      .filter((n) => n !== "migration_lock.toml")
      .sort();
    expect(rows.map((r) => r.migration_name).sort()).toEqual(names);
    for (const r of rows) {
      expect(r.checksum).toBe(sha(join(MIGRATIONS, r.migration_name, "migration.sql")));
      expect(r.finished_at).toBeTruthy();
    }
    expect(migrateDatabase(databaseFile(root), MIGRATIONS).applied).toEqual([]);
  });

  it("refuses a migration edited after it was applied", () => {
    const dir = mkdtempSync(join(tmpdir(), "migrations-"));
    cpSync(MIGRATIONS, dir, { recursive: true });
    const file = join(root, "edited.db");
    migrateDatabase(file, dir);
    writeFileSync(join(dir, "20261126000000_audit_log", "migration.sql"), "-- edited\n");
    expect(() => migrateDatabase(file, dir)).toThrow(MigrationError);
    rmSync(dir, { recursive: true });
  });

  it("matches schema.prisma: every field of every model round-trips through the client", async () => {
    const db = openAudit(root);
    const data = {
      seq: 1,
      at: "2026-01-01T00:00:00.000Z",
      actor: "a",
      role: "r",
      source: "cli",
      action: "model.promoted",
      outcome: "succeeded",
      correlationId: "c",
      fromStem: "f",
      fromSha256: "fs",
      fromScore: 0.5,
      toStem: "t",
      toSha256: "ts",
      toScore: 0.7,
      metric: "pr_auc",
      reason: "why",
      checks: "[]",
      details: "{}",
      prevHash: "p",
      hash: "h",
    };
    const created = await db.auditEvent.create({ data });
    expect(await db.auditEvent.findUniqueOrThrow({ where: { id: created.id } })).toEqual({ ...data, id: created.id });
  });
});

describe("hash chain", () => {
  const write = async (n: number) => {
    const db = openAudit(root);
    for (let i = 0; i < n; i++) await recordEvent(db, alice, { action: "model.promoted", outcome: "succeeded", reason: `r${i}` });
    return db;
  };

  it("verifies an untouched log and detects an edited row", async () => {
    const db = await write(4);
    expect(await verifyStoredChain(db)).toMatchObject({ ok: true, count: 4 });
    raw().prepare("UPDATE AuditEvent SET reason = 'nothing to see' WHERE seq = 2").run();
    expect(await verifyStoredChain(db)).toMatchObject({ ok: false, problem: { seq: 2 } });
  });

  it("detects a deleted row and reordered rows", async () => {
    const db = await write(4);
    const conn = raw();
    conn.prepare("DELETE FROM AuditEvent WHERE seq = 2").run();
    expect((await verifyStoredChain(db)).problem?.message).toMatch(/missing|deleted/);
    conn.prepare("UPDATE AuditEvent SET seq = 2 WHERE seq = 3").run();
    expect((await verifyStoredChain(db)).ok).toBe(false);
    conn.close();
  });

  it("stays linear under concurrent writers", async () => {
    const db = openAudit(root);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => recordEvent(db, alice, { action: "model.promoted", outcome: "succeeded", reason: `p${i}` })),
    );
    const events = await allEvents(db);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await verifyStoredChain(db)).ok).toBe(true);
  });

  it("exports to JSON and CSV that verify offline, and catches an edited export", async () => {
    const db = await write(3);
    await recordEvent(db, alice, { action: "model.promoted", outcome: "succeeded", reason: "" });
    await recordEvent(db, alice, { action: "model.promoted", outcome: "succeeded", reason: 'quote " comma , newline\nend' });
    const events = await allEvents(db);
    const json = toJsonExport(events);
    const csv = toCsvExport(events);
    expect(verifyExport(json)).toMatchObject({ ok: true, count: 5, format: "json" });
    expect(verifyExport(csv)).toMatchObject({ ok: true, count: 5, format: "csv" });
    expect(verifyExport(json.replace('"r1"', '"r9"')).ok).toBe(false);
    expect(verifyExport(csv.replace("r1", "r9")).ok).toBe(false);
    expect(verifyExport("garbage").ok).toBe(false);
  });

  it("streams the same export a page at a time, stopping at the head it started from", async () => {
    const collect = async (gen: AsyncIterable<string>) => {
      let text = "";
      for await (const chunk of gen) text += chunk;
      return text;
    };
    const db = openAudit(root);
    const at = "2026-01-01T00:00:00.000Z";
    expect(await collect(exportText(db, "json", await exportHead(db), at))).toBe(toJsonExport([], at));
    expect(await collect(exportText(db, "csv", await exportHead(db)))).toBe(toCsvExport([]));
    // More than one page of events (2,000 per query), with awkward text in them.
    for (let i = 0; i < 2100; i++)
      await recordEvent(db, alice, { action: "model.promoted", outcome: "succeeded", reason: `r${i} "q", \n` });
    const head = await exportHead(db);
    const events = await allEvents(db);
    await recordEvent(db, alice, { action: "model.promoted", outcome: "succeeded", reason: "after the head" });
    const json = await collect(exportText(db, "json", head, at));
    expect(json).toBe(toJsonExport(events, at));
    expect(await collect(exportText(db, "csv", head))).toBe(toCsvExport(events));
    expect(verifyExport(json)).toMatchObject({ ok: true, count: 2100 });
  });
});

describe("release with the audit trail", () => {
  const request = (version?: string) => ({ kind: "promote" as const, version, minScore: 0.6, overrides: [], reason: "weekly release" });

  it("records intent then completion for a promotion, and knows the previous production", async () => {
    const outcome = await release(root, request(), alice);
    expect(outcome.status).toBe("done");
    const events = await allEvents(openAudit(root));
    expect(events.map((e) => [e.action, e.outcome])).toEqual([
      ["model.promotion_started", "intent"],
      ["model.promoted", "succeeded"],
    ]);
    expect(events[1]).toMatchObject({
      actor: "alice",
      role: "releaser",
      source: "web",
      fromStem: PRODUCTION,
      toStem: BEST,
      toSha256: sha(join(root, `models/${BEST}.joblib`)),
      metric: "pr_auc",
      reason: "weekly release",
      correlationId: outcome.correlationId,
    });
    expect(JSON.parse(events[1]!.checks).map((c: { name: string }) => c.name)).toContain("min_score");
    const prod = (await scanRegistry(root)).production;
    expect((await previousProduction(openAudit(root), prod)).previous?.stem).toBe(PRODUCTION);
  });

  it("lists the events of one change by its correlation id (the link the release dialog shows)", async () => {
    const first = await release(root, request(), alice);
    await release(root, request("baseline_logreg_20250114T091500Z"), alice);
    const { events, total } = await listEvents(openAudit(root), { correlation: first.correlationId }, 1, 50);
    expect(total).toBe(2);
    expect(events.map((e) => e.action)).toEqual(["model.promoted", "model.promotion_started"]);
  });

  it("records a refused promotion and writes nothing", async () => {
    const before = fingerprint(root);
    const outcome = await release(root, request("baseline_logreg_20250114T091500Z"), alice);
    expect(outcome.status).toBe("refused");
    expect(fingerprint(root)).toEqual(before);
    const [event] = await allEvents(openAudit(root));
    expect(event).toMatchObject({ action: "model.promotion_refused", outcome: "refused", toStem: "baseline_logreg_20250114T091500Z" });
  });

  it("records a stale attempt as failed when production moved under it, writing nothing", async () => {
    const { withRegistryLock } = await import("@/lib/registry");
    let attempt: Promise<unknown> = Promise.resolve();
    await withRegistryLock(root, async () => {
      // The release plans now and then waits for this lock; meanwhile someone hand-copies another version.
      attempt = release(root, request(), alice).catch((e) => e);
      await new Promise((r) => setTimeout(r, 500));
      const other = "candidate_logreg_20250709T120000Z";
      writeFileSync(join(root, "models/production_latest.joblib"), readFileSync(join(root, `models/${other}.joblib`)));
      writeFileSync(join(root, "metrics/production_latest.json"), readFileSync(join(root, `metrics/${other}.json`)));
    });
    const before = fingerprint(root);
    expect(await attempt).toBeInstanceOf(ProductionChangedError);
    expect(fingerprint(root)).toEqual(before);
    const [event] = await allEvents(openAudit(root));
    expect(event).toMatchObject({ action: "model.promotion_failed", outcome: "failed", toStem: BEST });
    expect(JSON.parse(event!.details).error.code).toBe("production_changed");
  });

  it("closes an intent left without completion by a crash, judging by what production holds", async () => {
    const db = openAudit(root);
    await recordEvent(db, alice, {
      action: "model.promotion_started",
      outcome: "intent",
      correlationId: "crashed-1",
      to: { stem: PRODUCTION, sha256: sha(join(root, `models/${PRODUCTION}.joblib`)), score: 0.56 },
    });
    await recordEvent(db, alice, {
      action: "model.promotion_started",
      outcome: "intent",
      correlationId: "crashed-2",
      to: { stem: BEST, sha256: sha(join(root, `models/${BEST}.joblib`)), score: 0.65 },
    });
    // What a kill after the renames but before the completion leaves: a staged journal, no temp files.
    mkdirSync(join(root, ".registry"), { recursive: true });
    writeFileSync(
      join(root, ".registry/journal.json"),
      JSON.stringify({ state: "staged", kind: "promote", from: BEST, to: PRODUCTION, startedAt: "", pid: 1, tag: "crashed-1", files: [] }),
    );
    await repairOnStart(root, { name: "system", role: "system", source: "cli" });
    const closing = (await allEvents(db)).slice(2);
    expect(closing.map((e) => [e.correlationId, e.outcome]).sort()).toEqual([
      ["crashed-1", "recovered"],
      ["crashed-2", "failed"],
    ]);
    expect((await verifyStoredChain(db)).ok).toBe(true);
  });

  it("keeps the audit database at DATABASE_URL when set", async () => {
    const file = join(root, "elsewhere.db");
    process.env.DATABASE_URL = `file:${file}`;
    try {
      await release(root, request(), alice);
      expect(readFileSync(file).length).toBeGreaterThan(0);
    } finally {
      delete process.env.DATABASE_URL;
    }
  });
});

describe("verifying the newest events only", () => {
  beforeEach(() => {
    delete process.env.DATABASE_URL;
    process.env.REGISTRY_MIGRATIONS_DIR = MIGRATIONS;
  });

  it("passes an intact log, and catches an edit in the window or a deletion anywhere", async () => {
    const db = openAudit(root);
    for (let i = 0; i < 30; i++) await recordEvent(db, alice, { action: "model.promoted", outcome: "succeeded", reason: `r${i}` });
    const { verifyRecentChain } = await import("./log");
    const first = await verifyRecentChain(db, 10);
    expect(first).toMatchObject({ ok: true, window: 10, total: 30 });
    // Nothing written since: the report is reused, not recomputed (the same object comes back).
    expect(await verifyRecentChain(db, 10)).toBe(first);
    const conn = raw();
    conn.prepare("UPDATE AuditEvent SET reason = 'x' WHERE seq = 25").run();
    expect((await verifyRecentChain(db, 10)).ok).toBe(false);
    conn.prepare("UPDATE AuditEvent SET reason = 'r24' WHERE seq = 25").run();
    expect((await verifyRecentChain(db, 10)).ok).toBe(true);
    conn.prepare("DELETE FROM AuditEvent WHERE seq = 3").run();
    expect((await verifyRecentChain(db, 10)).problem?.message).toMatch(/deleted/);
    conn.close();
  });
});
