import { resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeAudit, openAudit, verifyStoredChain } from "@/lib/audit";
import { createUser } from "@/lib/auth/test-support/accounts";
import { removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";
import { AccountError, BROWSER_TTL_MS, createFirstAdmin, endSession, signIn, sweepExpired, userForToken } from "./accounts";
import { proxyConfig, proxyIdentity } from "./proxy-sign-in";
import { can, PERMISSIONS, type Permission, parseRoles, ROLES, type Role, requireRoles } from "./roles";
import { DAY, signInPolicy } from "./throttle";

describe("role matrix", () => {
  const expected: Record<Role, Permission[]> = {
    viewer: ["registry.read", "audit.read"],
    releaser: ["registry.read", "audit.read", "model.promote"],
    auditor: ["registry.read", "audit.read", "audit.export"],
    admin: ["registry.read", "audit.read", "users.manage", "webhooks.manage"],
  };
  for (const role of ROLES) {
    it(`${role} may do exactly ${expected[role].join(", ")}`, () => {
      expect(PERMISSIONS.filter((p) => can([role], p))).toEqual(PERMISSIONS.filter((p) => expected[role].includes(p)));
    });
  }

  it("adds up the permissions of several roles, and grants nothing for none or unknown roles", () => {
    expect(can(["viewer", "auditor"], "audit.export")).toBe(true);
    expect(can(["viewer", "auditor"], "model.promote")).toBe(false);
    expect(PERMISSIONS.some((p) => can([], p))).toBe(false);
    expect(PERMISSIONS.some((p) => can(["root", "__proto__", "constructor"], p))).toBe(false);
    expect(parseRoles("viewer, wizard,releaser")).toEqual(["viewer", "releaser"]);
    expect(() => requireRoles(["wizard"])).toThrow(/Unknown role/);
  });
});

describe("accounts and sessions", () => {
  let root: string;
  beforeEach(() => {
    delete process.env.DATABASE_URL;
    process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../../prisma/migrations");
    root = tempRegistry();
  });
  afterEach(async () => {
    await closeAudit();
    removeRegistry(root);
  });

  it("stores an argon2id hash, signs in with the right password only, and signs out", async () => {
    const db = openAudit(root);
    await createUser(db, { username: "rita", password: "correct horse battery", roles: ["releaser"], createdBy: "test" });
    const stored = await db.user.findUniqueOrThrow({ where: { username: "rita" } });
    expect(stored.passwordHash).toMatch(/^\$argon2id\$/);
    expect(stored.passwordHash).not.toContain("correct horse");

    expect(await signIn(db, { username: "rita", password: "wrong password!", address: "1.2.3.4" })).toMatchObject({ ok: false });
    const ok = await signIn(db, { username: "rita", password: "correct horse battery", address: "1.2.3.4" });
    if (!ok.ok) throw new Error(ok.error);
    expect(await userForToken(db, ok.token)).toMatchObject({ username: "rita", roles: ["releaser"] });
    // Only a hash of the token is stored: the database alone cannot be replayed as a cookie.
    expect(await db.session.count({ where: { id: ok.token } })).toBe(0);
    await endSession(db, ok.token);
    expect(await userForToken(db, ok.token)).toBeNull();
  });

  it("expires sessions and refuses tokens it never issued", async () => {
    const db = openAudit(root);
    await createUser(db, { username: "vic", password: "a long password", roles: ["viewer"], createdBy: "test" });
    const s = await signIn(db, { username: "vic", password: "a long password", address: "a", sessionTtlMs: -1 });
    if (!s.ok) throw new Error(s.error);
    expect(await userForToken(db, s.token)).toBeNull();
    expect(await userForToken(db, "forged")).toBeNull();
    expect(await userForToken(db, undefined)).toBeNull();
  });

  it("records every account it creates as user.created, naming who created it, never the password", async () => {
    const db = openAudit(root);
    await createUser(db, { username: "nia", password: "nia's long password", roles: ["auditor", "viewer"], createdBy: "provisioner" });
    const events = await db.auditEvent.findMany({ where: { action: "user.created" } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: "provisioner", outcome: "succeeded", reason: "Created nia with viewer, auditor." });
    expect(JSON.parse(events[0]?.details ?? "{}")).toEqual({ username: "nia", roles: ["viewer", "auditor"] });
    expect(JSON.stringify(events)).not.toContain("long password");
    expect(await verifyStoredChain(db)).toMatchObject({ ok: true, count: 1 });
  });

  it("refuses taken names, short passwords and unknown roles", async () => {
    const db = openAudit(root);
    await createUser(db, { username: "dup", password: "long enough pw", roles: ["viewer"], createdBy: "t" });
    await expect(createUser(db, { username: "dup", password: "long enough pw", roles: ["viewer"], createdBy: "t" })).rejects.toThrow(
      AccountError,
    );
    await expect(createUser(db, { username: "short", password: "123", roles: ["viewer"], createdBy: "t" })).rejects.toThrow(/at least/);
    await expect(createUser(db, { username: "odd", password: "long enough pw", roles: ["god"], createdBy: "t" })).rejects.toThrow(
      /Unknown role/,
    );
    await expect(createUser(db, { username: "../x", password: "long enough pw", roles: ["viewer"], createdBy: "t" })).rejects.toThrow(
      /Usernames/,
    );
  });
});

describe("sign-in limits", () => {
  let root: string;
  beforeEach(() => {
    delete process.env.DATABASE_URL;
    process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../../prisma/migrations");
    root = tempRegistry();
  });
  afterEach(async () => {
    await closeAudit();
    removeRegistry(root);
  });

  // Every attempt gets an explicit clock: the limits are about time, the tests must not be.
  const T0 = Date.parse("2026-12-04T09:00:00.000Z");
  const policy = signInPolicy({});
  const attempt = (db: ReturnType<typeof openAudit>, username: string, password: string, address: string, at = T0, browserToken?: string) =>
    signIn(db, { username, password, address, browserToken }, policy, at);

  it("waits 1 s after 5 failures at an account, then twice as long after each further failure, up to 15 minutes", async () => {
    const db = openAudit(root);
    await createUser(db, { username: "ann", password: "the real password", roles: ["viewer"], createdBy: "test" });
    let at = T0;
    for (let i = 0; i < 5; i++)
      expect(await attempt(db, "ann", `guess ${i}`, `10.0.0.${i}`, at)).toMatchObject({ error: "Wrong username or password." });
    const waits: number[] = [];
    for (let i = 0; i < 12; i++) {
      const refused = await attempt(db, "ann", "the real password", "10.0.1.1", at);
      expect(refused).toMatchObject({
        ok: false,
        error: expect.stringMatching(/^Too many failed sign-ins for this account\. Try again in/),
      });
      const wait = (refused as { retryAfterSeconds: number }).retryAfterSeconds;
      waits.push(wait);
      // One millisecond early is still too early; on time, the password is checked again.
      expect(await attempt(db, "ann", "the real password", "10.0.1.1", at + wait * 1000 - 1)).toMatchObject({ retryAfterSeconds: 1 });
      at += wait * 1000;
      expect(await attempt(db, "ann", `late guess ${i}`, `10.0.2.${i}`, at)).toMatchObject({ error: "Wrong username or password." });
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
  });

  it("an attempt whose clock was read a moment before another's is not refused while nobody is waiting", async () => {
    // Two people signing in from one machine at once: each process reads its clock, then runs its statement.
    // The one that read its clock first may run second; under the free failures neither may be told to wait.
    const db = openAudit(root);
    await createUser(db, { username: "bob", password: "bob's real password", roles: ["viewer"], createdBy: "test" });
    await createUser(db, { username: "cat", password: "cat's real password", roles: ["viewer"], createdBy: "test" });
    await createUser(db, { username: "dan", password: "dan's real password", roles: ["viewer"], createdBy: "test" });
    expect(await attempt(db, "bob", "bob's real password", "10.9.9.9", T0 + 5)).toMatchObject({ ok: true });
    expect(await attempt(db, "cat", "a wrong guess", "10.9.9.9", T0 + 5)).toMatchObject({ error: "Wrong username or password." });
    expect(await attempt(db, "dan", "dan's real password", "10.9.9.9", T0)).toMatchObject({ ok: true });
  });

  it("counts each attempt before checking the password: 40 parallel guesses get 5 checks", async () => {
    const db = openAudit(root);
    await createUser(db, { username: "kim", password: "the real password", roles: ["viewer"], createdBy: "test" });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => attempt(db, "kim", `guess ${i}`, `10.1.0.${i}`)));
    expect(results.filter((r) => !r.ok && r.error === "Wrong username or password.")).toHaveLength(5);
    expect(results.filter((r) => !r.ok && r.error.startsWith("Too many"))).toHaveLength(35);
  });

  it("limits an address across accounts after 20 failures, and nobody else", async () => {
    const db = openAudit(root);
    await createUser(db, { username: "bea", password: "the real password", roles: ["viewer"], createdBy: "test" });
    for (let i = 0; i < 20; i++)
      expect(await attempt(db, `nobody${i}`, "x", "6.6.6.6")).toMatchObject({ error: "Wrong username or password." });
    expect(await attempt(db, "bea", "the real password", "6.6.6.6")).toMatchObject({ error: expect.stringMatching(/from your address/) });
    expect(await attempt(db, "bea", "the real password", "7.7.7.7")).toMatchObject({ ok: true });
    // An IPv6 client is one subscriber's /64: changing the last 64 bits buys nothing.
    for (let i = 0; i < 20; i++) await attempt(db, `ghost${i}`, "x", `2001:db8:1:2::${i + 1}`);
    expect(await attempt(db, "bea", "the real password", "2001:db8:1:2:ffff::9")).toMatchObject({
      error: expect.stringMatching(/from your address/),
    });
    expect(await attempt(db, "bea", "the real password", "2001:db8:1:3::1")).toMatchObject({ ok: true });
  });

  it("failures at made-up names from many addresses lock no real account and no other address", async () => {
    const db = openAudit(root);
    await createUser(db, { username: "lee", password: "the real password", roles: ["viewer"], createdBy: "test" });
    const refused = [];
    for (let a = 0; a < 10; a++) for (let i = 0; i < 25; i++) refused.push(await attempt(db, `made-up-${a}-${i}`, "x", `203.0.113.${a}`));
    expect(refused.filter((r) => !r.ok && r.error.startsWith("Too many"))).toHaveLength(10 * 5);
    expect(await attempt(db, "lee", "the real password", "198.51.100.1")).toMatchObject({ ok: true });
  });

  it("a right password takes back its own count only, so signing in between guesses wipes nothing", async () => {
    const db = openAudit(root);
    await createUser(db, { username: "sam", password: "the real password", roles: ["viewer"], createdBy: "test" });
    for (let i = 0; i < 4; i++) await attempt(db, "sam", `guess ${i}`, "10.2.0.1");
    expect(await attempt(db, "sam", "the real password", "10.2.0.2")).toMatchObject({ ok: true });
    // Still 4 failures counted: the fifth is checked, the sixth waits.
    expect(await attempt(db, "sam", "guess 5", "10.2.0.3")).toMatchObject({ error: "Wrong username or password." });
    expect(await attempt(db, "sam", "the real password", "10.2.0.2")).toMatchObject({ error: expect.stringMatching(/^Too many/) });
  });

  it("forgets failures a day after the last one", async () => {
    const db = openAudit(root);
    await createUser(db, { username: "joe", password: "the real password", roles: ["viewer"], createdBy: "test" });
    const wrong = { error: "Wrong username or password." };
    for (let i = 0; i < 5; i++) expect(await attempt(db, "joe", `guess ${i}`, `10.3.0.${i}`)).toMatchObject(wrong);
    // A day later to the millisecond the count still stands: one more guess, then a wait.
    const later = T0 + DAY;
    expect(await attempt(db, "joe", "guess 6", "10.3.1.1", later)).toMatchObject(wrong);
    expect(await attempt(db, "joe", "guess 7", "10.3.1.2", later)).toMatchObject({ retryAfterSeconds: 2 });
    // A day and a millisecond after the last failure, it starts over: five free failures again.
    for (let i = 0; i < 5; i++) expect(await attempt(db, "joe", `guess ${i}`, `10.3.2.${i}`, later + DAY + 1)).toMatchObject(wrong);
    expect(await attempt(db, "joe", "the real password", "10.3.2.9", later + DAY + 1)).toMatchObject({ retryAfterSeconds: 1 });
  });

  it("a browser that signed in before counts on its own: guessing elsewhere does not lock its owner out", async () => {
    const db = openAudit(root);
    await createUser(db, { username: "kim", password: "the real password", roles: ["viewer"], createdBy: "test" });
    const first = await attempt(db, "kim", "the real password", "192.0.2.10");
    if (!first.ok) throw new Error(first.error);
    const browser = first.browserToken;
    for (let i = 0; i < 10; i++) await attempt(db, "kim", `guess ${i}`, `198.51.100.${i}`);
    // A new browser waits, whatever its address; kim's own browser signs in, from anywhere.
    expect(await attempt(db, "kim", "the real password", "192.0.2.99")).toMatchObject({ error: expect.stringMatching(/for this account/) });
    const again = await attempt(db, "kim", "the real password", "203.0.113.50", T0, browser);
    expect(again).toMatchObject({ ok: true, browserToken: browser });
    // The browser token is bound to kim: it is nobody else's way around their limits.
    await createUser(db, { username: "zoe", password: "the real password", roles: ["viewer"], createdBy: "test" });
    for (let i = 0; i < 5; i++) await attempt(db, "zoe", `guess ${i}`, "198.51.100.200");
    expect(await attempt(db, "zoe", "the real password", "192.0.2.10", T0, browser)).toMatchObject({
      error: expect.stringMatching(/for this account/),
    });
    // Guesses from kim's browser itself are limited like any others.
    for (let i = 0; i < 5; i++)
      expect(await attempt(db, "kim", `typo ${i}`, "192.0.2.10", T0, browser)).toMatchObject({ error: "Wrong username or password." });
    expect(await attempt(db, "kim", "the real password", "192.0.2.10", T0, browser)).toMatchObject({
      error: expect.stringMatching(/^Too many/),
    });
  });

  it("never adopts a browser token it did not issue", async () => {
    const db = openAudit(root);
    await createUser(db, { username: "kim", password: "the real password", roles: ["viewer"], createdBy: "test" });
    const planted = "planted-by-someone-else";
    const result = await attempt(db, "kim", "the real password", "192.0.2.10", T0, planted);
    if (!result.ok) throw new Error(result.error);
    expect(result.browserToken).not.toBe(planted);
    expect(result.browserToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await db.knownBrowser.count()).toBe(1);
  });

  it("sweeps expired sessions, forgotten counters and long-unseen browsers, a bounded batch at a time, and on sign-in", async () => {
    const db = openAudit(root);
    const user = await createUser(db, { username: "ivy", password: "the real password", roles: ["viewer"], createdBy: "test" });
    const iso = (ms: number) => new Date(ms).toISOString();
    for (let i = 0; i < 7; i++) {
      await db.session.create({
        data: { id: `old-${i}`, userId: user.id, createdAt: iso(T0 - DAY), expiresAt: iso(T0 - 1000 * (i + 1)), address: "a" },
      });
      await db.loginThrottle.create({ data: { key: `account:old-${i}`, failures: 3, lastAt: BigInt(T0 - DAY - 1 - i), until: 0n } });
      await db.knownBrowser.create({
        data: {
          tokenHash: `old-${i}`,
          userId: user.id,
          createdAt: iso(T0 - 2 * BROWSER_TTL_MS),
          lastSeenAt: iso(T0 - BROWSER_TTL_MS - 1 - i),
        },
      });
    }
    await db.session.create({ data: { id: "live", userId: user.id, createdAt: iso(T0), expiresAt: iso(T0 + 1000), address: "a" } });
    await db.loginThrottle.create({ data: { key: "account:recent", failures: 3, lastAt: BigInt(T0 - DAY + 1000), until: 0n } });
    await db.knownBrowser.create({
      data: { tokenHash: "recent", userId: user.id, createdAt: iso(T0), lastSeenAt: iso(T0 - BROWSER_TTL_MS + 1000) },
    });

    expect(await sweepExpired(db, T0, policy, 5)).toEqual({ sessions: 5, counters: 5, browsers: 5 });
    // The rest goes with the next sign-in (here a failed one: anyone's attempt keeps the tables small).
    expect(await attempt(db, "nobody", "x", "10.9.9.9")).toMatchObject({ ok: false });
    expect((await db.session.findMany()).map((s) => s.id)).toEqual(["live"]);
    expect((await db.loginThrottle.findMany({ orderBy: { key: "asc" } })).map((t) => t.key)).toEqual([
      "account:nobody",
      "account:recent",
      "address:10.9.9.9",
    ]);
    expect((await db.knownBrowser.findMany()).map((b) => b.tokenHash)).toEqual(["recent"]);
  });
});

describe("first-run set-up", () => {
  let root: string;
  beforeEach(() => {
    delete process.env.DATABASE_URL;
    process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../../prisma/migrations");
    root = tempRegistry();
  });
  afterEach(async () => {
    await closeAudit();
    removeRegistry(root);
  });

  it("10 parallel set-ups on an empty registry create exactly one admin, with one audit event in the chain", async () => {
    const db = openAudit(root);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        createFirstAdmin(db, { username: `admin-${i}`, password: "first admin password", address: "127.0.0.1" }),
      ),
    );
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    const users = await db.user.findMany();
    expect(users.map((u) => [u.username, u.roles, u.createdBy])).toEqual([[winners[0]?.username, "admin", "first-run set-up"]]);
    const events = await db.auditEvent.findMany();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "user.created",
      outcome: "succeeded",
      actor: winners[0]?.username,
      role: "admin",
      source: "web",
    });
    expect(JSON.parse(events[0]?.details ?? "{}")).toEqual({
      username: winners[0]?.username,
      roles: ["admin"],
      via: "first-run set-up",
      address: "127.0.0.1",
    });
    expect(events[0]?.details).not.toContain("first admin password");
    expect(await verifyStoredChain(db)).toMatchObject({ ok: true, count: 1 });
  });

  it("creates nothing and records nothing once any account exists", async () => {
    const db = openAudit(root);
    await createUser(db, { username: "someone", password: "a long password", roles: ["viewer"], createdBy: "cli" });
    const recorded = await db.auditEvent.count();
    expect(await createFirstAdmin(db, { username: "late", password: "first admin password", address: "a" })).toBeNull();
    expect(await db.user.count()).toBe(1);
    expect(await db.auditEvent.count()).toBe(recorded);
  });

  it("refuses a bad name or a short password before touching the database", async () => {
    const db = openAudit(root);
    await expect(createFirstAdmin(db, { username: "../x", password: "first admin password", address: "a" })).rejects.toThrow(AccountError);
    await expect(createFirstAdmin(db, { username: "root", password: "short", address: "a" })).rejects.toThrow(/at least/);
    expect(await db.user.count()).toBe(0);
  });
});

describe("sign-in tables match schema.prisma", () => {
  it("every field of LoginThrottle and KnownBrowser round-trips through the client", async () => {
    delete process.env.DATABASE_URL;
    process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../../prisma/migrations");
    const root = tempRegistry();
    try {
      const db = openAudit(root);
      const user = await createUser(db, { username: "rt", password: "a long password", roles: ["viewer"], createdBy: "t" });
      const throttle = { key: "account:rt", failures: 7, lastAt: 1_796_374_800_123n, until: 1_796_374_900_456n };
      await db.loginThrottle.create({ data: throttle });
      expect(await db.loginThrottle.findUniqueOrThrow({ where: { key: "account:rt" } })).toEqual(throttle);
      const browser = { tokenHash: "h", userId: user.id, createdAt: "2026-12-04T00:00:00.000Z", lastSeenAt: "2026-12-04T01:00:00.000Z" };
      await db.knownBrowser.create({ data: browser });
      expect(await db.knownBrowser.findUniqueOrThrow({ where: { tokenHash_userId: { tokenHash: "h", userId: user.id } } })).toEqual(
        browser,
      );
      // Deleting the account forgets its browsers.
      await db.user.delete({ where: { id: user.id } });
      expect(await db.knownBrowser.count()).toBe(0);
    } finally {
      await closeAudit();
      removeRegistry(root);
    }
  });
});

describe("trusted reverse-proxy sign-in", () => {
  const headers = (h: Record<string, string>) => (name: string) => h[name] ?? null;

  it("is off unless asked for", () => {
    expect(proxyConfig({})).toBeNull();
    expect(proxyConfig({ REGISTRY_AUTH_PROXY: "true" })).toBeNull();
  });

  it("maps the proxy's groups to roles, grants nothing unmapped, and refuses a missing or odd user header", () => {
    const config = proxyConfig({
      REGISTRY_AUTH_PROXY: "1",
      REGISTRY_AUTH_PROXY_ROLES: "ml-release:releaser, ml-audit:auditor, *:viewer, x:wizard",
    })!;
    expect(config.roleMap).toEqual([
      ["ml-release", "releaser"],
      ["ml-audit", "auditor"],
      ["*", "viewer"],
    ]);
    expect(proxyIdentity(config, headers({ "x-forwarded-user": "rita", "x-forwarded-groups": "ml-release,staff" }))).toEqual({
      username: "rita",
      roles: ["releaser", "viewer"],
    });
    expect(proxyIdentity(config, headers({ "x-forwarded-user": "sam" }))?.roles).toEqual(["viewer"]);
    expect(proxyIdentity(config, headers({}))).toBeNull();
    expect(proxyIdentity(config, headers({ "x-forwarded-user": "bad\nname" }))).toBeNull();
    const strict = proxyConfig({ REGISTRY_AUTH_PROXY: "1", REGISTRY_AUTH_PROXY_ROLES: "ml-release:releaser" })!;
    expect(proxyIdentity(strict, headers({ "x-forwarded-user": "sam", "x-forwarded-groups": "other" }))?.roles).toEqual([]);
  });
});
