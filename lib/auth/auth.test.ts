import { resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeAudit, openAudit } from "@/lib/audit";
import { removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";
import { AccountError, createUser, endSession, signIn, userForToken } from "./accounts";
import { proxyConfig, proxyIdentity } from "./proxy";
import { can, PERMISSIONS, type Permission, parseRoles, ROLES, type Role, requireRoles } from "./roles";

describe("role matrix", () => {
  const expected: Record<Role, Permission[]> = {
    viewer: ["registry.read", "audit.read"],
    releaser: ["registry.read", "audit.read", "model.promote"],
    auditor: ["registry.read", "audit.read", "audit.export"],
    admin: ["registry.read", "audit.read", "users.manage"],
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

  it("rate-limits failed sign-ins per account, even with the right password afterwards", async () => {
    const db = openAudit(root);
    await createUser(db, { username: "ann", password: "the real password", roles: ["auditor"], createdBy: "test" });
    for (let i = 0; i < 5; i++) await signIn(db, { username: "ann", password: `guess ${i}`, address: `10.0.0.${i}` });
    const blocked = await signIn(db, { username: "ann", password: "the real password", address: "10.0.0.99" });
    expect(blocked).toMatchObject({ ok: false, error: expect.stringMatching(/Too many/) });
  });

  it("rate-limits failed sign-ins per address across accounts", async () => {
    const db = openAudit(root);
    await createUser(db, { username: "bea", password: "the real password", roles: ["viewer"], createdBy: "test" });
    for (let i = 0; i < 20; i++) await signIn(db, { username: `nobody${i}`, password: "x", address: "6.6.6.6" });
    expect(await signIn(db, { username: "bea", password: "the real password", address: "6.6.6.6" })).toMatchObject({ ok: false });
    expect(await signIn(db, { username: "bea", password: "the real password", address: "7.7.7.7" })).toMatchObject({ ok: true });
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
