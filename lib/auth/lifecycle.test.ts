import { readdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Actor, allEvents, closeAudit, databaseFile, openAudit, verifyStoredChain } from "@/lib/audit";
import { removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";
import { signIn, userForToken } from "./accounts";
import {
  AccountFieldError,
  changeOwnPassword,
  changeRoles,
  createAccount,
  DeletedAccountError,
  deleteAccount,
  findAccount,
  LastAdminError,
  passwordSession,
  resetPassword,
  setDisabled,
  UnknownAccountError,
} from "./lifecycle";

const admin: Actor = { name: "ada", role: "admin", source: "web" };
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

const db = () => openAudit(root);
const pw = (name: string) => `${name}-long-password`;

async function account(username: string, roles: string[]) {
  return createAccount(db(), admin, { username, password: pw(username), roles });
}
async function session(username: string, password = pw(username)) {
  const s = await signIn(db(), { username, password, address: `test-${Math.random()}` });
  if (!s.ok) throw new Error(s.error);
  return s.token;
}
async function admins(): Promise<string[]> {
  const users = await db().user.findMany({ where: { deletedAt: null, disabled: false } });
  return users.filter((u) => u.roles.split(",").includes("admin")).map((u) => u.username);
}

describe("the last admin", () => {
  it("cannot be demoted, disabled or deleted, and each refusal is audited", async () => {
    await account("ada", ["admin"]);
    await account("vic", ["viewer"]);
    await expect(changeRoles(db(), admin, "ada", ["viewer"])).rejects.toThrow(LastAdminError);
    await expect(setDisabled(db(), admin, "ada", true)).rejects.toThrow(LastAdminError);
    await expect(deleteAccount(db(), admin, "ada")).rejects.toThrow(LastAdminError);
    expect(await admins()).toEqual(["ada"]);
    // A disabled admin does not count: it cannot sign in to manage anything.
    await account("bo", ["admin"]);
    await setDisabled(db(), admin, "bo", true);
    await expect(changeRoles(db(), admin, "ada", ["viewer"])).rejects.toThrow(LastAdminError);
    const refused = (await allEvents(db())).filter((e) => e.action === "user.change_refused");
    expect(refused.map((e) => JSON.parse(e.details).change)).toEqual(["roles", "disable", "delete", "roles"]);
    expect(refused.every((e) => e.outcome === "refused")).toBe(true);
  });

  const takeAway = {
    demote: (by: string, who: string) => changeRoles(db(), { ...admin, name: by }, who, ["viewer"]),
    disable: (by: string, who: string) => setDisabled(db(), { ...admin, name: by }, who, true),
    delete: (by: string, who: string) => deleteAccount(db(), { ...admin, name: by }, who),
  };
  const pairs = [
    ["demote", "demote"],
    ["demote", "disable"],
    ["disable", "delete"],
    ["delete", "delete"],
  ] as const;
  it.each(pairs)("survives the only two admins' %s and %s of each other at the same moment", async (first, second) => {
    await account("ada", ["admin"]);
    await account("bo", ["admin"]);
    // Whoever is first wins; the other is refused, whatever the order.
    const results = await Promise.allSettled([takeAway[first]("bo", "ada"), takeAway[second]("ada", "bo")]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(results.find((r) => r.status === "rejected")).toMatchObject({ reason: expect.any(LastAdminError) });
    expect(await admins()).toHaveLength(1);
    expect((await verifyStoredChain(db())).ok).toBe(true);
  });

  it("refuses one of two parallel demotions of the only two admins", async () => {
    await account("ada", ["admin"]);
    await account("bo", ["admin"]);
    const results = await Promise.allSettled([
      changeRoles(db(), { ...admin, name: "bo" }, "ada", ["viewer"]),
      changeRoles(db(), { ...admin, name: "ada" }, "bo", ["viewer"]),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(results.find((r) => r.status === "rejected")).toMatchObject({ reason: expect.any(LastAdminError) });
    expect(await admins()).toHaveLength(1);
    expect((await verifyStoredChain(db())).ok).toBe(true);
  });
});

describe("sessions end with the change", () => {
  it("a disabled account's sessions end at once, and re-enabling does not revive them", async () => {
    await account("ada", ["admin"]);
    await account("vic", ["viewer"]);
    const [t1, t2] = [await session("vic"), await session("vic")];
    expect(await setDisabled(db(), admin, "vic", true)).toEqual({ username: "vic", changed: true, sessionsEnded: 2 });
    expect(await db().session.count({ where: { user: { username: "vic" } } })).toBe(0);
    expect(await userForToken(db(), t1)).toBeNull();
    expect((await signIn(db(), { username: "vic", password: pw("vic"), address: "x" })).ok).toBe(false);
    await setDisabled(db(), admin, "vic", false);
    expect(await userForToken(db(), t2)).toBeNull();
    expect((await signIn(db(), { username: "vic", password: pw("vic"), address: "x" })).ok).toBe(true);
  });

  it("a demoted account's sessions end; an account that only gains a role keeps its session with the new roles", async () => {
    await account("ada", ["admin"]);
    await account("rel", ["releaser", "viewer"]);
    const t = await session("rel");
    expect(await changeRoles(db(), admin, "rel", ["releaser", "viewer", "auditor"])).toMatchObject({ changed: true, sessionsEnded: 0 });
    expect(await userForToken(db(), t)).toMatchObject({ roles: ["viewer", "releaser", "auditor"] });
    expect(await changeRoles(db(), admin, "rel", ["viewer"])).toMatchObject({ changed: true, sessionsEnded: 1 });
    expect(await userForToken(db(), t)).toBeNull();
    expect(await changeRoles(db(), admin, "rel", ["viewer"])).toMatchObject({ changed: false, sessionsEnded: 0 });
  });

  it("a deleted account keeps its row as a tombstone: no roles, no sign-in, the name reserved", async () => {
    await account("ada", ["admin"]);
    await account("gone", ["releaser"]);
    const t = await session("gone");
    expect(await deleteAccount(db(), admin, "gone")).toEqual({ username: "gone", changed: true, sessionsEnded: 1 });
    expect(await userForToken(db(), t)).toBeNull();
    expect(await findAccount(db(), "gone")).toMatchObject({ deleted: true, disabled: true, roles: [] });
    expect((await signIn(db(), { username: "gone", password: pw("gone"), address: "y" })).ok).toBe(false);
    await expect(account("gone", ["viewer"])).rejects.toThrow(/deleted.*reserved/);
    await expect(setDisabled(db(), admin, "gone", false)).rejects.toThrow(DeletedAccountError);
    await expect(resetPassword(db(), admin, "gone")).rejects.toThrow(DeletedAccountError);
    await expect(changeRoles(db(), admin, "nobody", ["viewer"])).rejects.toThrow(UnknownAccountError);
    expect(await deleteAccount(db(), admin, "gone")).toMatchObject({ changed: false });
  });
});

describe("passwords", () => {
  it("a reset forces a change at the next sign-in: until then the session is good for the password page only", async () => {
    await account("ada", ["admin"]);
    await account("rita", ["releaser"]);
    const before = await session("rita");
    const reset = await resetPassword(db(), admin, "rita");
    expect(reset).toMatchObject({ username: "rita", changed: true, sessionsEnded: 1, generated: true });
    expect(await userForToken(db(), before)).toBeNull();
    expect((await signIn(db(), { username: "rita", password: pw("rita"), address: "z" })).ok).toBe(false);

    const t = await session("rita", reset.password);
    expect(await userForToken(db(), t)).toBeNull();
    const pending = await passwordSession(db(), t);
    expect(pending).toMatchObject({ username: "rita", mustChangePassword: true });
    await expect(changeOwnPassword(db(), pending!, { current: reset.password, next: reset.password })).rejects.toThrow(/different/);
    await expect(changeOwnPassword(db(), pending!, { current: reset.password, next: "short" })).rejects.toThrow(AccountFieldError);
    expect(await changeOwnPassword(db(), pending!, { current: reset.password, next: "rita-chose-this" })).toMatchObject({
      changed: true,
      wasRequired: true,
    });
    expect(await userForToken(db(), t)).toMatchObject({ username: "rita", roles: ["releaser"] });
    expect(await findAccount(db(), "rita")).toMatchObject({ mustChangePassword: false, passwordChangedAt: expect.any(String) });
  });

  it("changing your own password needs the current one, ends your other sessions, and stops guessing after 5 tries", async () => {
    await account("ada", ["admin"]);
    await account("vic", ["viewer"]);
    const [here, elsewhere] = [await session("vic"), await session("vic")];
    const mine = (await passwordSession(db(), here))!;
    const wrong = changeOwnPassword(db(), mine, { current: "not my password", next: "vic-new-password" });
    await expect(wrong).rejects.toMatchObject({ field: "currentPassword" });
    expect(await changeOwnPassword(db(), mine, { current: pw("vic"), next: "vic-new-password" })).toMatchObject({ sessionsEnded: 1 });
    expect(await userForToken(db(), here)).toMatchObject({ username: "vic" });
    expect(await userForToken(db(), elsewhere)).toBeNull();

    // One wrong try is on record; of any further guesses, in a burst or one by one, at most 4 are checked.
    const guess = (i: number) => changeOwnPassword(db(), mine, { current: `guess ${i}`, next: "whatever-long" });
    const burst = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => guess(i)));
    const after: PromiseSettledResult<unknown>[] = [];
    for (let i = 0; i < 8; i++) after.push(...(await Promise.allSettled([guess(100 + i)])));
    const all = [...burst, ...after];
    expect(all.every((g) => g.status === "rejected")).toBe(true);
    const checked = all.filter((g) => /not your current/.test(String((g as PromiseRejectedResult).reason)));
    expect(checked.length).toBeLessThanOrEqual(4);
    // Even the right password is refused now, without being checked, until the window passes.
    await expect(changeOwnPassword(db(), mine, { current: "vic-new-password", next: "another-long-one" })).rejects.toThrow(/Too many/);
  });
});

describe("the audit trail of accounts", () => {
  it("records every change once, in a chain that verifies, and never a password, not even in the database file", async () => {
    const secrets = ["ada-long-password", "bo-long-password", "temporary-secret-1", "bo-chose-a-new-1"];
    await createAccount(db(), admin, { username: "ada", password: secrets[0]!, roles: ["admin"] });
    await createAccount(db(), admin, { username: "bo", password: secrets[1]!, roles: ["viewer"] });
    await changeRoles(db(), admin, "bo", ["releaser"]);
    await setDisabled(db(), admin, "bo", true);
    await setDisabled(db(), admin, "bo", false);
    await resetPassword(db(), admin, "bo", secrets[2]);
    const t = await session("bo", secrets[2]);
    await changeOwnPassword(db(), (await passwordSession(db(), t))!, { current: secrets[2]!, next: secrets[3]! });
    await deleteAccount(db(), admin, "bo");

    const events = await allEvents(db());
    expect(events.map((e) => `${e.actor}:${e.action}`)).toEqual([
      "ada:user.created",
      "ada:user.created",
      "ada:user.roles_changed",
      "ada:user.disabled",
      "ada:user.enabled",
      "ada:user.password_reset",
      "bo:user.password_changed",
      "ada:user.deleted",
    ]);
    expect(events.map((e) => JSON.parse(e.details).username)).toEqual(Array(8).fill("ada").fill("bo", 1));
    expect((await verifyStoredChain(db())).ok).toBe(true);

    await closeAudit();
    const dir = dirname(databaseFile(root));
    const bytes = Buffer.concat(readdirSync(dir).map((f) => readFileSync(resolve(dir, f))));
    expect(bytes.length).toBeGreaterThan(0);
    for (const s of secrets) expect(bytes.includes(Buffer.from(s)), s).toBe(false);
  });

  it("names the field of each refused input", async () => {
    await account("ada", ["admin"]);
    await expect(account("ada", ["viewer"])).rejects.toMatchObject({ field: "username", message: /taken/ });
    await expect(account("../x", ["viewer"])).rejects.toMatchObject({ field: "username" });
    await expect(createAccount(db(), admin, { username: "cy", password: "short", roles: ["viewer"] })).rejects.toMatchObject({
      field: "password",
    });
    await expect(account("cy", [])).rejects.toMatchObject({ field: "role" });
    await expect(account("cy", ["wizard"])).rejects.toMatchObject({ field: "role" });
  });

  it("keeps the new account columns through the client (the migration matches schema.prisma)", async () => {
    await account("ada", ["admin"]);
    await db().user.update({
      where: { username: "ada" },
      data: {
        mustChangePassword: true,
        passwordChangedAt: "2026-12-04T00:00:00.000Z",
        deletedAt: "2026-12-05T00:00:00.000Z",
        deletedBy: "x",
      },
    });
    expect(await db().user.findUniqueOrThrow({ where: { username: "ada" } })).toMatchObject({
      mustChangePassword: true,
      passwordChangedAt: "2026-12-04T00:00:00.000Z",
      deletedAt: "2026-12-05T00:00:00.000Z",
      deletedBy: "x",
    });
  });
});
