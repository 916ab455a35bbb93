import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { allEvents, closeAudit, databaseFile, openAudit, verifyStoredChain } from "@/lib/audit";
import { removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";
import { createApiToken, hashToken, listApiTokens, parseExpiry, revokeApiToken, TokenInputError, tokenForBearer, UnknownTokenError } from "./api-tokens";

// The token store over a real SQLite file: what is stored, what is audited, and when a token stops working.
let root: string;
const admin = { name: "ops", role: "cli", source: "cli" as const };
const DAY = 86_400_000;

beforeAll(() => {
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../../prisma/migrations");
});
beforeEach(() => {
  root = tempRegistry();
  delete process.env.DATABASE_URL;
});
afterEach(async () => {
  await closeAudit();
  removeRegistry(root);
});

describe("API tokens", () => {
  it("shows a token once: only its sha256 and a short prefix are stored, and the audit event names it without it", async () => {
    const db = openAudit(root);
    const created = await createApiToken(db, { name: "ci", role: "releaser", expiresInMs: 90 * DAY, by: admin });
    expect(created.token).toMatch(/^mrt_[A-Za-z0-9_-]{43}$/);
    const [row] = await db.apiToken.findMany();
    expect(row?.tokenHash).toBe(hashToken(created.token));
    expect(row?.prefix).toBe(created.token.slice(0, 12));
    await closeAudit();
    // Nowhere in the database file, the audit log included.
    expect(readFileSync(databaseFile(root)).includes(Buffer.from(created.token))).toBe(false);
    const events = await allEvents(openAudit(root));
    expect(events.map((e) => [e.action, e.actor, e.source])).toEqual([["token.created", "ops", "cli"]]);
    expect(JSON.stringify(events)).not.toContain(created.token.slice(12));
    expect(JSON.parse(events[0]?.details ?? "{}")).toMatchObject({ name: "ci", role: "releaser", prefix: created.token.slice(0, 12) });
  });

  it("authenticates a live token and records its last use at most once a minute", async () => {
    const db = openAudit(root);
    const { token } = await createApiToken(db, { name: "ci", role: "releaser", expiresInMs: DAY, by: admin });
    const t0 = new Date();
    expect(await tokenForBearer(db, `Bearer ${token}`, t0)).toEqual({ ok: true, token: { id: 1, name: "ci", role: "releaser", createdBy: admin.name } });
    expect((await listApiTokens(db, t0))[0]?.lastUsedAt).toBe(t0.toISOString());
    await tokenForBearer(db, `Bearer ${token}`, new Date(t0.getTime() + 30_000));
    expect((await listApiTokens(db, t0))[0]?.lastUsedAt).toBe(t0.toISOString());
    const later = new Date(t0.getTime() + 61_000);
    await tokenForBearer(db, `bearer ${token}`, later);
    expect((await listApiTokens(db, later))[0]?.lastUsedAt).toBe(later.toISOString());
  });

  it("refuses a missing, malformed, unknown, expired or revoked token, saying which", async () => {
    const db = openAudit(root);
    const now = new Date();
    const { token } = await createApiToken(db, { name: "ci", role: "releaser", expiresInMs: DAY, by: admin }, now);
    expect(await tokenForBearer(db, null)).toEqual({ ok: false, why: "missing" });
    expect(await tokenForBearer(db, token)).toEqual({ ok: false, why: "malformed" });
    expect(await tokenForBearer(db, "Bearer mrt_short")).toEqual({ ok: false, why: "malformed" });
    expect(await tokenForBearer(db, `Bearer ${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`)).toEqual({ ok: false, why: "unknown" });
    expect(await tokenForBearer(db, `Bearer ${token}`, new Date(now.getTime() + DAY))).toMatchObject({ ok: false, why: "expired", token: { name: "ci" } });
    await revokeApiToken(db, "ci", admin);
    expect(await tokenForBearer(db, `Bearer ${token}`)).toMatchObject({ ok: false, why: "revoked", token: { name: "ci" } });
    expect((await listApiTokens(db))[0]).toMatchObject({ state: "revoked", revokedBy: "ops" });
  });

  it("audits a revocation once; a name is free again once its token is revoked, and never twice at once", async () => {
    const db = openAudit(root);
    await createApiToken(db, { name: "ci", role: "viewer", expiresInMs: DAY, by: admin });
    await expect(createApiToken(db, { name: "ci", role: "viewer", expiresInMs: DAY, by: admin })).rejects.toThrow(TokenInputError);
    await revokeApiToken(db, 1, admin);
    await expect(revokeApiToken(db, 1, admin)).rejects.toThrow(UnknownTokenError);
    await expect(revokeApiToken(db, "nobody", admin)).rejects.toThrow(UnknownTokenError);
    const again = await createApiToken(db, { name: "ci", role: "auditor", expiresInMs: DAY, by: admin });
    expect(again.id).toBe(2);
    expect((await allEvents(db)).map((e) => e.action)).toEqual(["token.created", "token.revoked", "token.created"]);
    expect(await verifyStoredChain(db)).toMatchObject({ ok: true, count: 3 });
  });

  it("refuses bad names, unknown roles and expiries that are missing a bound", async () => {
    const db = openAudit(root);
    for (const name of ["", "-x", "a b", "x".repeat(65), "ci\n"]) {
      await expect(createApiToken(db, { name, role: "viewer", expiresInMs: DAY, by: admin }), name).rejects.toThrow(TokenInputError);
    }
    await expect(createApiToken(db, { name: "ok", role: "__proto__", expiresInMs: DAY, by: admin })).rejects.toThrow(TokenInputError);
    expect(parseExpiry(undefined)).toBe(90 * DAY);
    expect(parseExpiry("12h")).toBe(12 * 3_600_000);
    expect(parseExpiry("30")).toBe(30 * DAY);
    for (const bad of ["0d", "400d", "never", "-1d", "1w"]) expect(() => parseExpiry(bad), bad).toThrow(TokenInputError);
    expect(await db.apiToken.count()).toBe(0);
  });
});
