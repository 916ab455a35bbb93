import { execFile, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";
import { main } from "./main";

// `registry users …` is an operator's door into accounts: every change it makes is audited with the OS user
// as the actor, refusals exit 3, unknown names exit 2, and --json shapes are a contract like the others.

let root: string;
const osUser = userInfo().username;
const bin = resolve(__dirname, "bin.mjs");

beforeEach(() => {
  delete process.env.DATABASE_URL;
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../prisma/migrations");
  root = tempRegistry();
});
afterEach(() => removeRegistry(root));

/** Runs the CLI in-process and captures what it prints. */
async function run(...args: string[]) {
  const lines: string[] = [];
  let json: unknown = null;
  const code = await main([...args, "--root", root], {
    json: false,
    print: (t) => lines.push(t),
    printJson: (v) => {
      json = v;
    },
  });
  return { code, text: lines.join("\n"), json: json as Record<string, unknown> };
}

type Event = { action: string; actor: string; role: string; source: string; outcome: string; reason: string; details: string };
async function events(action?: string): Promise<Event[]> {
  const r = await run("audit", "list", "--json", "--limit", "500", ...(action ? ["--action", action] : []));
  return (r.json.events as Event[]).reverse();
}

async function seed() {
  expect((await run("users", "add", "ada", "--role", "admin")).code).toBe(0);
  expect((await run("users", "add", "bo", "--role", "viewer", "--role", "releaser")).code).toBe(0);
}

describe("registry users: every change is audited from the CLI", () => {
  it("records user.created and user.roles_changed with the OS user as actor and source cli, never the password", async () => {
    const added = await run("users", "add", "ada", "--role", "admin", "--json");
    expect(added.code).toBe(0);
    const password = added.json.password as string;
    expect(password).toMatch(/^[\w-]{16}$/);
    expect((await run("users", "add", "bo", "--role", "viewer")).code).toBe(0);
    const roles = await run("users", "roles", "bo", "--role", "releaser", "--json");
    expect(roles).toMatchObject({ code: 0, json: { username: "bo", roles: ["releaser"], previousRoles: ["viewer"], changed: true } });

    const log = await events();
    expect(log.map((e) => [e.action, e.outcome])).toEqual([
      ["user.created", "succeeded"],
      ["user.created", "succeeded"],
      ["user.roles_changed", "succeeded"],
    ]);
    for (const e of log) expect(e).toMatchObject({ actor: osUser, source: "cli" });
    expect(JSON.parse(log[2]!.details)).toMatchObject({ username: "bo", from: ["viewer"], to: ["releaser"] });
    expect(JSON.stringify(log)).not.toContain(password);
  });

  it("records audit.exported when the log is exported from the CLI", async () => {
    await seed();
    const out = join(root, "export.json");
    expect((await run("audit", "export", "--out", out)).code).toBe(0);
    const [exported] = await events("audit.exported");
    expect(exported).toMatchObject({ actor: osUser, source: "cli", outcome: "succeeded" });
    expect(JSON.parse(exported!.details)).toMatchObject({ format: "json", events: 2 });
    // The export holds the chain up to its head: it still verifies offline.
    expect(JSON.parse(readFileSync(out, "utf8")).events).toHaveLength(2);
    expect((await run("audit", "verify", "--file", out)).code).toBe(0);
  });
});

describe("registry users: the life cycle", () => {
  it("disables and re-enables an account (--json), and a second disable changes nothing", async () => {
    await seed();
    expect(await run("users", "disable", "bo", "--json")).toMatchObject({
      code: 0,
      json: { username: "bo", disabled: true, changed: true, sessionsEnded: 0 },
    });
    expect(await run("users", "disable", "bo", "--json")).toMatchObject({ code: 0, json: { username: "bo", changed: false } });
    const listed = await run("users", "list", "--json");
    expect(listed.json.users).toContainEqual(expect.objectContaining({ username: "bo", disabled: true, deleted: false }));
    expect(await run("users", "enable", "bo", "--json")).toMatchObject({
      code: 0,
      json: { username: "bo", disabled: false, changed: true },
    });
    expect((await events()).map((e) => e.action).slice(2)).toEqual(["user.disabled", "user.enabled"]);
  });

  it("resets a password to a generated one the person must change, or to one read from stdin", async () => {
    await seed();
    const reset = await run("users", "reset-password", "bo", "--json");
    expect(reset).toMatchObject({ code: 0, json: { username: "bo", mustChangePassword: true, sessionsEnded: 0 } });
    const generated = reset.json.password as string;
    expect(generated).toMatch(/^[\w-]{16}$/);
    const listed = await run("users", "list", "--json");
    expect(listed.json.users).toContainEqual(expect.objectContaining({ username: "bo", mustChangePassword: true }));
    const [event] = await events("user.password_reset");
    expect(event).toMatchObject({ actor: osUser, source: "cli" });
    expect(JSON.parse(event!.details)).toMatchObject({ username: "bo", generated: true });
    expect(JSON.stringify(event)).not.toContain(generated);

    const typed = spawnSync("node", [bin, "users", "reset-password", "bo", "--password-stdin", "--root", root, "--json"], {
      input: "chosen-temporary-pw\n",
      encoding: "utf8",
      env: { ...process.env, DATABASE_URL: "" },
    });
    expect(typed.status).toBe(0);
    expect(JSON.parse(typed.stdout)).toEqual({ username: "bo", mustChangePassword: true, changed: true, sessionsEnded: 0 });
  });

  it("sets who an account is for the two-person rule, audited; an empty one goes back to the username", async () => {
    await seed();
    const set = await run("users", "person", "bo", "Bo  Diaz", "--json");
    expect(set).toMatchObject({ code: 0, json: { username: "bo", person: "Bo Diaz", previous: null, changed: true } });
    expect((await run("users", "person", "bo", "Bo Diaz")).text).toMatch(/already Bo Diaz: nothing changed/);
    expect((await run("users", "person", "bo", "", "--json")).json).toMatchObject({ person: null, previous: "Bo Diaz" });
    const changed = await events("user.person_changed");
    expect(changed.map((e) => [e.actor, JSON.parse(e.details).new])).toEqual([
      [osUser, "Bo Diaz"],
      [osUser, null],
    ]);
    expect((await run("users", "person", "bo")).code).toBe(2);
    expect((await run("users", "person", "nosuch", "X")).code).toBe(2);
  });

  it("deletes an account as a tombstone: the name stays reserved and listed as deleted", async () => {
    await seed();
    expect(await run("users", "delete", "bo", "--json")).toMatchObject({ code: 0, json: { username: "bo", deleted: true, changed: true } });
    const listed = await run("users", "list", "--json");
    expect(listed.json.users).toContainEqual(expect.objectContaining({ username: "bo", deleted: true, roles: [] }));
    const again = await run("users", "add", "bo", "--role", "viewer", "--json");
    expect(again.code).toBe(2);
    expect(JSON.stringify(again.json)).toMatch(/deleted.*reserved/);
    // Nothing to do to a deleted account but look at it.
    expect((await run("users", "enable", "bo", "--json")).code).toBe(3);
    expect((await run("users", "roles", "bo", "--role", "viewer", "--json")).code).toBe(3);
    expect(await run("users", "delete", "bo", "--json")).toMatchObject({ code: 0, json: { changed: false } });
    expect((await events("user.deleted")).map((e) => JSON.parse(e.details).username)).toEqual(["bo"]);
  });

  it("never removes, disables or demotes the last admin: exit 3, nothing changed, the refusal audited", async () => {
    await seed();
    for (const args of [
      ["users", "roles", "ada", "--role", "viewer"],
      ["users", "disable", "ada"],
      ["users", "delete", "ada"],
    ]) {
      const r = await run(...args, "--json");
      expect(r.code, args.join(" ")).toBe(3);
      expect(r.json).toMatchObject({ error: { code: "last_admin" }, exitCode: 3 });
    }
    expect((await run("users", "list", "--json")).json.users).toContainEqual(
      expect.objectContaining({ username: "ada", roles: ["admin"], disabled: false, deleted: false }),
    );
    const refused = await events("user.change_refused");
    expect(refused.map((e) => [JSON.parse(e.details).change, e.outcome])).toEqual([
      ["roles", "refused"],
      ["disable", "refused"],
      ["delete", "refused"],
    ]);
    // With a second admin, the first may step down.
    expect((await run("users", "roles", "bo", "--role", "admin")).code).toBe(0);
    expect((await run("users", "roles", "ada", "--role", "viewer")).code).toBe(0);
  });

  it("answers 2 for unknown accounts, unknown roles and missing names, without a stack trace", async () => {
    await seed();
    for (const args of [
      ["users", "disable", "nosuch"],
      ["users", "enable", "nosuch"],
      ["users", "delete", "nosuch"],
      ["users", "reset-password", "nosuch"],
      ["users", "roles", "nosuch", "--role", "viewer"],
      ["users", "roles", "bo", "--role", "wizard"],
      ["users", "disable"],
    ]) {
      const r = await run(...args, "--json");
      expect(r.code, args.join(" ")).toBe(2);
      expect(JSON.stringify(r.json)).not.toMatch(/\bat .*\.(ts|js|mjs):\d+/);
    }
  });
});

describe("registry users from several processes at once", () => {
  it("admins demoting each other in parallel processes leave exactly one admin, and every other attempt is refused (exit 3)", async () => {
    const names = ["ada", "bo", "cy", "di"];
    for (const n of names) expect((await run("users", "add", n, "--role", "admin")).code).toBe(0);
    const env = { ...process.env, DATABASE_URL: "" };
    const demote = (name: string) =>
      promisify(execFile)("node", [bin, "users", "roles", name, "--role", "viewer", "--root", root, "--json"], { env }).then(
        () => 0,
        (e: { code: number; stdout: string }) => e.code,
      );
    // Each process demotes another admin: whatever the order, the last one standing is refused.
    const codes = await Promise.all(names.map(demote));
    expect(codes.sort()).toEqual([0, 0, 0, 3]);
    const users = (await run("users", "list", "--json")).json.users as { roles: string[] }[];
    expect(users.filter((u) => u.roles.includes("admin"))).toHaveLength(1);
    expect((await run("audit", "verify", "--json")).json).toMatchObject({ ok: true });
  });
});
