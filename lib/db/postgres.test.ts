import { resolve } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Actor, allEvents, closeAudit, openAudit, recordEvent, verifyRecentChain, verifyStoredChain } from "@/lib/audit";
import { countingRefusals, recordRefusal } from "@/lib/audit/refusals";
import { createFirstAdmin, endSession, signIn, userForToken } from "@/lib/auth/accounts";
import { createAccount, deleteAccount, setDisabled } from "@/lib/auth/lifecycle";
import { createUser } from "@/lib/auth/test-support/accounts";
import { removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";
import { changeSetting, readSettings } from "@/lib/settings/settings";
import { addTrusted, listTrusted, removeTrusted, trustPolicy } from "@/lib/trust/trust-list";
import { addWebhook, sendAllDue } from "@/lib/webhooks";
import { startReceiver } from "@/lib/webhooks/test-support/receiver";
import { migratePostgres, postgresMigrationsDir, providerOf } from ".";
import { POSTGRES_OFF, sqlOn, throwawayDatabase } from "./test-support/postgres";

const ADMIN: Actor = { name: "root", role: "admin", source: "cli" };
let root: string;
let database: Awaited<ReturnType<typeof throwawayDatabase>>;

// Every table behind PostgreSQL: the same calls the dashboard and the CLI make, on a throwaway database.
describe.skipIf(POSTGRES_OFF)("PostgreSQL (DATABASE_URL=postgresql://…)", () => {
  beforeAll(async () => {
    process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../../prisma/migrations");
    database = await throwawayDatabase();
    process.env.REGISTRY_DATABASE_URL = database.url;
    root = tempRegistry();
  });
  afterAll(async () => {
    await closeAudit();
    delete process.env.REGISTRY_DATABASE_URL;
    await database.drop();
    removeRegistry(root);
  });
  beforeEach(async () => {
    // One database for the file: each test starts from empty tables (the migrations stay).
    await openAudit(root).auditEvent.count();
    await sqlOn(
      database.url,
      `TRUNCATE "AuditEvent", "User", "Session", "LoginThrottle", "KnownBrowser", "Setting", "ApprovalRequest", "RefusalWindow", "Webhook", "WebhookDelivery", "WebhookAttempt", "TrustedGlobal" RESTART IDENTITY CASCADE`,
    );
  });

  it("is migrated on first use, recorded as Prisma records it, and not again", async () => {
    const db = openAudit(root);
    expect(providerOf(db)).toBe("postgresql");
    const { rows } = await sqlOn(database.url, `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL ORDER BY 1`);
    expect(rows.map((r) => r.migration_name).length).toBeGreaterThanOrEqual(8);
    expect((await migratePostgres(database.url, postgresMigrationsDir())).applied).toEqual([]);
  });

  it("keeps one linear chain under 40 concurrent appends, and the recent-window check sees an edit by hand", async () => {
    const db = openAudit(root);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => recordEvent(db, ADMIN, { action: "model.promoted", outcome: "succeeded", reason: `p${i}` })),
    );
    const events = await allEvents(db);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(new Set(events.map((e) => e.prevHash)).size).toBe(40);
    expect(await verifyStoredChain(db)).toMatchObject({ ok: true, count: 40 });
    expect(await verifyRecentChain(db, 10)).toMatchObject({ ok: true });
    await sqlOn(database.url, `UPDATE "AuditEvent" SET "reason" = 'nothing to see' WHERE "seq" = 38`);
    expect(await verifyRecentChain(db, 10)).toMatchObject({ ok: false, problem: { seq: 38 } });
  });

  it("creates exactly one first admin from parallel set-ups, and signs in and out", async () => {
    const db = openAudit(root);
    const tries = await Promise.all(
      ["ann", "bob", "cat", "dan"].map((u) =>
        createFirstAdmin(db, { username: u, password: "correct horse battery", address: "10.0.0.1" }),
      ),
    );
    expect(tries.filter((t) => t !== null)).toHaveLength(1);
    expect(await db.user.count()).toBe(1);
    const admin = tries.find((t) => t !== null)!;
    const ok = await signIn(db, { username: admin.username, password: "correct horse battery", address: "10.0.0.1" });
    if (!ok.ok) throw new Error(ok.error);
    expect(await userForToken(db, ok.token)).toMatchObject({ username: admin.username });
    await endSession(db, ok.token);
    expect(await userForToken(db, ok.token)).toBeNull();
  });

  it("slows guessing: after 5 failures an account waits, whatever the order of parallel guesses", async () => {
    const db = openAudit(root);
    await createUser(db, { username: "rita", password: "correct horse battery", roles: ["releaser"], createdBy: "test" });
    const now = Date.now();
    const guesses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        signIn(db, { username: "rita", password: `wrong ${i} guess!`, address: `10.0.1.${i}` }, undefined, now),
      ),
    );
    expect(guesses.every((g) => !g.ok)).toBe(true);
    const row = await db.loginThrottle.findUniqueOrThrow({ where: { key: "account:rita" } });
    // The fifth failure sets a wait; every later guess, however parallel, is refused unchecked and uncounted.
    expect(row.failures).toBe(5);
    expect(Number(row.until)).toBeGreaterThan(now);
    const right = await signIn(db, { username: "rita", password: "correct horse battery", address: "10.0.2.1" }, undefined, now);
    expect(right.ok).toBe(false);
  });

  it("keeps the last admin: disabling or deleting the only active admin is refused, and audited", async () => {
    const db = openAudit(root);
    await createAccount(db, ADMIN, { username: "alice", password: "correct horse battery", roles: ["admin"] });
    await createAccount(db, ADMIN, { username: "bert", password: "correct horse battery", roles: ["viewer"] });
    await expect(setDisabled(db, ADMIN, "alice", true)).rejects.toThrow(/admin/i);
    await expect(deleteAccount(db, ADMIN, "alice")).rejects.toThrow(/admin/i);
    await setDisabled(db, ADMIN, "bert", true);
    expect((await db.user.findUniqueOrThrow({ where: { username: "bert" } })).disabled).toBe(true);
    const actions = (await allEvents(db)).map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual([
      "user.created:succeeded",
      "user.created:succeeded",
      "user.change_refused:refused",
      "user.change_refused:refused",
      "user.disabled:succeeded",
    ]);
    expect((await verifyStoredChain(db)).ok).toBe(true);
  });

  it("stores settings and counts refusals in windows", async () => {
    const db = openAudit(root);
    await changeSetting(db, ADMIN, "approvalTtlHours", "3", {});
    expect((await readSettings(db, {})).approvalTtlHours.value).toBe(3);
    const refusal = { kind: "auth.denied" as const, user: null, address: "10.9.9.9", action: "model.apply", reason: "Sign in first." };
    expect(await recordRefusal(db, refusal)).toBe("recorded");
    expect(await recordRefusal(db, refusal)).toBe("counted");
    expect((await countingRefusals(db)).windows).toMatchObject([{ pending: 1, seen: 2 }]);
  });

  it("writes each announced event's webhook delivery with it, and two senders deliver each exactly once", async () => {
    const db = openAudit(root);
    const secret = "a-webhook-secret-long-enough";
    const receiver = await startReceiver(secret);
    const allow = process.env.REGISTRY_WEBHOOKS_ALLOW_PRIVATE;
    process.env.REGISTRY_WEBHOOKS_ALLOW_PRIVATE = "127.0.0.1";
    try {
      await addWebhook(db, root, ADMIN, { url: receiver.url, secret, events: ["model.promoted"] });
      await Promise.all(
        Array.from({ length: 12 }, (_, i) => recordEvent(db, ADMIN, { action: "model.promoted", outcome: "succeeded", reason: `p${i}` })),
      );
      const deliveries = await db.webhookDelivery.findMany({ orderBy: { auditSeq: "asc" } });
      const promoted = (await allEvents(db)).filter((e) => e.action === "model.promoted").map((e) => e.seq);
      expect(deliveries.map((d) => d.auditSeq)).toEqual(promoted);
      await Promise.all([sendAllDue(db, root, { source: "cli" }), sendAllDue(db, root, { source: "cli" })]);
      const ids = receiver.received.map((r) => r.headers["x-registry-delivery"]);
      expect(ids.length).toBe(12);
      expect(new Set(ids).size).toBe(12);
      expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
      expect(await verifyStoredChain(db)).toMatchObject({ ok: true });
    } finally {
      if (allow === undefined) delete process.env.REGISTRY_WEBHOOKS_ALLOW_PRIVATE;
      else process.env.REGISTRY_WEBHOOKS_ALLOW_PRIVATE = allow;
      await receiver.close();
    }
  });

  it("keeps the trust list: added, consulted by the inspector's policy, removed, each audited", async () => {
    const db = openAudit(root);
    await addTrusted(db, ADMIN, "acme_features.Winsorizer", "reviewed in PR 412");
    expect((await trustPolicy(db)).trusted.map((t) => `${t.module}.${t.name}`)).toEqual(["acme_features.Winsorizer"]);
    await removeTrusted(db, ADMIN, "acme_features.Winsorizer", "replaced");
    expect(await listTrusted(db)).toEqual([]);
    expect((await allEvents(db)).map((e) => e.action)).toEqual(["trust.added", "trust.removed"]);
  });

  it("round-trips every field of every model", async () => {
    const db = openAudit(root);
    const user = await db.user.create({
      data: {
        username: "u1",
        passwordHash: "h",
        roles: "viewer",
        createdAt: "t",
        createdBy: "c",
        person: "P",
        passwordChangedAt: "x",
        deletedAt: null,
      },
    });
    await db.session.create({ data: { id: "s", userId: user.id, createdAt: "a", expiresAt: "b", address: "c" } });
    await db.knownBrowser.create({ data: { tokenHash: "k", userId: user.id, createdAt: "a", lastSeenAt: "b" } });
    await db.loginThrottle.create({ data: { key: "k", failures: 2, lastAt: 2n ** 53n, until: 5n } });
    const approval = await db.approvalRequest.create({
      data: {
        uid: "u",
        kind: "promote",
        state: "pending",
        targetStem: "t",
        targetSha256: "s",
        targetScore: 0.25,
        minScore: 0.5,
        overrides: "[]",
        checks: "[]",
        files: "[]",
        reason: "r",
        requesterName: "n",
        requesterPerson: "p",
        source: "web",
        createdAt: "c",
        expiresAt: "e",
      },
    });
    expect(await db.loginThrottle.findUniqueOrThrow({ where: { key: "k" } })).toMatchObject({ lastAt: 2n ** 53n, until: 5n });
    expect(await db.approvalRequest.findUniqueOrThrow({ where: { id: approval.id } })).toMatchObject({ targetScore: 0.25, minScore: 0.5 });
    await db.user.delete({ where: { id: user.id } });
    // Cascades as on SQLite.
    expect(await db.session.count()).toBe(0);
    expect(await db.knownBrowser.count()).toBe(0);
  });
});
