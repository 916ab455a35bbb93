import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { format } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { allEvents, closeAudit, databaseFile, exportHead, exportText, openAudit, schemaFieldNames, secret } from "@/lib/audit";
import { signIn } from "@/lib/auth";
import { createUser } from "@/lib/auth/test-support/accounts";
import { removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";

// Everything here is real (the wrapper, the actions' own schemas, the session lookup, the audit chain and
// its SQLite file) except the request: outside Next there is none, so the cookie jar is this one.
const request = { token: undefined as string | undefined };
vi.mock("server-only", () => ({}));
vi.mock("next/headers", () => ({
  cookies: async () => ({
    get: (name: string) => (name === "registry_session" && request.token ? { name, value: request.token } : undefined),
  }),
  headers: async () => new Headers({ "x-real-ip": "203.0.113.9" }),
}));
// Nothing to revalidate outside Next: an accepted change's page refresh is a no-op here.
vi.mock("next/cache", () => ({ revalidatePath: () => {} }));

const { defineAction, definedActions } = await import("./action");

const APP = resolve(__dirname, "../../app");
let root: string;
let printed: string[];

beforeAll(() => {
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../../prisma/migrations");
});
beforeEach(() => {
  root = tempRegistry();
  process.env.REGISTRY_ROOT = root;
  delete process.env.DATABASE_URL;
  printed = [];
  // Whatever the server would print: a secret must not reach a log line either.
  for (const level of ["error", "warn", "log", "info", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      printed.push(format(...args));
    });
  }
});
afterEach(async () => {
  vi.restoreAllMocks();
  request.token = undefined;
  await closeAudit();
  removeRegistry(root);
});
afterAll(() => {
  delete process.env.REGISTRY_ROOT;
});

/** Signs a new account with these roles in, for real, and makes it the requester. */
async function signedInAs(username: string, roles: string[]): Promise<void> {
  const db = openAudit(root);
  await createUser(db, { username, password: `${username}-test-password`, roles, createdBy: "test" });
  const session = await signIn(db, { username, password: `${username}-test-password`, address: "203.0.113.9" });
  if (!session.ok) throw new Error(session.error);
  request.token = session.token;
}

/** Every byte the audit database holds on disk (the main file, its WAL and shared memory) as latin1 text. */
function databaseBytes(): string {
  const file = databaseFile(root);
  return [file, `${file}-wal`, `${file}-shm`]
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f).toString("latin1"))
    .join("\n");
}

async function exports(): Promise<string> {
  const db = openAudit(root);
  const head = await exportHead(db);
  let text = "";
  for (const format of ["json", "csv"] as const) for await (const part of exportText(db, format, head)) text += part;
  return text;
}

/** Fails when `secret` is anywhere an operator, a viewer or a log reader could find it. */
async function expectNowhere(secretValue: string): Promise<void> {
  expect(databaseBytes().includes(secretValue), "the database file holds it").toBe(false);
  expect((await exports()).includes(secretValue), "an export holds it").toBe(false);
  expect(printed.join("\n").includes(secretValue), "a log line holds it").toBe(false);
}

function form(fields: Record<string, string | string[]>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) f.append(k, one);
  return f;
}

describe("a refused create-user (issue 16: a password in the audit log)", () => {
  it("records the field names and messages of the refusal, never the password", async () => {
    await signedInAs("root-admin", ["admin"]);
    const password = `Pw-${randomUUID()}`;
    const { createUserAction } = await import("@/app/admin/users/actions");

    const result = await createUserAction(null, form({ username: "eve", password }));

    expect(result).toMatchObject({ ok: false, code: "invalid_input", fieldErrors: { role: ["Choose at least one role."] } });
    expect(JSON.stringify(result)).not.toContain(password);
    const events = await allEvents(openAudit(root));
    const rejected = events.find((e) => e.action === "request.rejected");
    expect(rejected?.actor).toBe("root-admin");
    expect(JSON.parse(rejected?.details ?? "{}")).toEqual({
      action: "user.create",
      permission: "users.manage",
      fields: ["password", "username"],
      fieldErrors: { role: ["Choose at least one role."] },
    });
    await expectNowhere(password);
  });

  it("an accepted create-user is recorded as user.created by the admin who made it, the password nowhere", async () => {
    await signedInAs("root-admin", ["admin"]);
    const password = `Pw-${randomUUID()}`;
    const { createUserAction } = await import("@/app/admin/users/actions");

    expect(await createUserAction(null, form({ username: "eve", password, role: "viewer" }))).toMatchObject({ ok: true });
    const created = (await allEvents(openAudit(root))).filter((e) => e.action === "user.created" && e.actor === "root-admin");
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ role: "admin", source: "web", outcome: "succeeded" });
    expect(JSON.parse(created[0]?.details ?? "{}")).toEqual({ username: "eve", roles: ["viewer"] });
    await expectNowhere(password);
  });

  it("keeps a validation message that would echo a secret out of the record and out of the answer", async () => {
    await signedInAs("root-admin", ["admin"]);
    const key = `Key-${randomUUID()}`;
    const echoing = defineAction(
      "test.echo",
      "users.manage",
      // Marked, not named like a secret: the mark alone must keep it out.
      z.object({ hook: secret(z.string().refine((v) => v.startsWith("sk_"), { error: (i) => `${String(i.input)} is not a key` })) }),
      async () => ({ ok: true, data: null }),
    );
    const result = await echoing(null, form({ hook: key }));
    expect(result).toMatchObject({ ok: false, code: "invalid_input" });
    expect(JSON.stringify(result)).not.toContain(key);
    await expectNowhere(key);
  });

  it("keeps a secret out of the server log and the answer when the action itself fails", async () => {
    await signedInAs("root-admin", ["admin"]);
    const token = `Tok-${randomUUID()}`;
    const failing = defineAction("test.failing", "users.manage", z.object({ token: z.string(), note: z.string() }), async (input) => {
      throw new Error(`the upstream refused ${input.token} for ${input.note}`);
    });
    const result = await failing(null, form({ token, note: "a note" }));
    expect(result).toMatchObject({ ok: false, code: "unexpected" });
    expect(JSON.stringify(result)).not.toContain(token);
    // The failure is still logged, with what is not secret.
    expect(printed.join("\n")).toContain("action test.failing failed");
    expect(printed.join("\n")).toContain("for a note");
    await expectNowhere(token);
  });
});

/** Every app module that defines server actions through the wrapper, imported so that each registers. */
async function importEveryActionModule(dir = APP): Promise<string[]> {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await importEveryActionModule(path)));
    else if (/\.tsx?$/.test(entry.name) && readFileSync(path, "utf8").includes("defineAction(")) {
      await import(/* @vite-ignore */ path);
      found.push(path);
    }
  }
  return found;
}

describe("every action defined with defineAction", () => {
  it("has a name of its own: two actions under one name would hide one of them from this test and from the log", async () => {
    const modules = await importEveryActionModule();
    const names = modules.flatMap((path) => [...readFileSync(path, "utf8").matchAll(/defineAction\(\s*"([^"]+)"/g)].map((m) => m[1]));
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it("leaves a sentinel posted in every field nowhere: not in the database file, an export, a log line", async () => {
    const modules = await importEveryActionModule();
    expect(modules.length).toBeGreaterThanOrEqual(2);
    const actions = [...definedActions()].filter(([name]) => !name.startsWith("test."));
    expect(actions.map(([name]) => name)).toEqual(expect.arrayContaining(["user.create", "model.preview", "model.apply"]));

    const sentinel = `Sentinel-${randomUUID()}`;
    // A caller allowed everything, one allowed nothing that is audited, and nobody.
    await signedInAs("everything", ["admin", "releaser", "auditor"]);
    const everything = request.token;
    await signedInAs("looker", ["viewer"]);
    const looker = request.token;
    let posted = 0;
    for (const token of [everything, looker, undefined]) {
      request.token = token;
      for (const [name, { action, schema }] of actions) {
        const fields = [...schemaFieldNames(schema), "password", "confirm", "token", "secret", "note"];
        expect(schemaFieldNames(schema).length, name).toBeGreaterThan(0);
        const every = (v: string | string[]) => Object.fromEntries(fields.map((f) => [f, v]));
        const shapes: (FormData | Record<string, unknown>)[] = [
          form(every(sentinel)),
          form(every([sentinel, sentinel])),
          form({ ...every(sentinel), kind: "promote", role: "viewer" }),
          { ...every(sentinel), nested: { deeper: [sentinel] }, kind: 42 },
        ];
        for (const input of shapes) {
          const result = await action(null, input);
          expect(result.ok, name).toBe(false);
          posted++;
        }
      }
    }
    expect(posted).toBe(actions.length * 4 * 3);
    expect((await allEvents(openAudit(root))).some((e) => e.action === "request.rejected")).toBe(true);
    await expectNowhere(sentinel);
  });
});
