import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { format } from "node:util";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { allEvents, closeAudit, databaseFile, openAudit } from "@/lib/audit";
import { signIn } from "@/lib/auth";
import { createUser } from "@/lib/auth/test-support/accounts";
import { removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";
import { type Receiver, startReceiver } from "./test-support/receiver";

// The dashboard's webhook actions, called as anyone who can POST would call them: everything is real (the
// wrapper, the session lookup, the database, a receiver on 127.0.0.1) except the request, which outside
// Next is this cookie jar, and Next's cache, which has nothing to revalidate here.
const request = { token: undefined as string | undefined };
vi.mock("server-only", () => ({}));
vi.mock("next/cache", () => ({ revalidatePath: () => {} }));
vi.mock("next/headers", () => ({
  cookies: async () => ({
    get: (name: string) => (name === "registry_session" && request.token ? { name, value: request.token } : undefined),
  }),
  headers: async () => new Headers({ "x-real-ip": "203.0.113.9" }),
}));

const SECRET = "action-secret-5e2b7c9d1a3f";
let root: string;
let receiver: Receiver;
let printed: string[];

beforeAll(() => {
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../../prisma/migrations");
});
beforeEach(async () => {
  root = tempRegistry();
  process.env.REGISTRY_ROOT = root;
  process.env.REGISTRY_WEBHOOKS_ALLOW_PRIVATE = "127.0.0.1";
  delete process.env.DATABASE_URL;
  receiver = await startReceiver(SECRET);
  printed = [];
  for (const level of ["error", "warn", "log", "info", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      printed.push(format(...args));
    });
  }
});
afterEach(async () => {
  vi.restoreAllMocks();
  request.token = undefined;
  delete process.env.REGISTRY_ROOT;
  delete process.env.REGISTRY_WEBHOOKS_ALLOW_PRIVATE;
  await receiver.close();
  await closeAudit();
  removeRegistry(root);
});

async function signedInAs(username: string, roles: string[]): Promise<void> {
  const db = openAudit(root);
  await createUser(db, { username, password: `${username}-test-password`, roles, createdBy: "test" });
  const session = await signIn(db, { username, password: `${username}-test-password`, address: "203.0.113.9" });
  if (!session.ok) throw new Error(session.error);
  request.token = session.token;
}

function form(fields: Record<string, string | string[]>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) f.append(k, one);
  return f;
}

function databaseBytes(): string {
  const file = databaseFile(root);
  return [file, `${file}-wal`, `${file}-shm`]
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f).toString("latin1"))
    .join("\n");
}

const newHook = () => form({ url: receiver.url, secret: SECRET, events: ["model.promoted", "promotion.refused"] });

describe("the dashboard's webhook actions", () => {
  it("refuse everyone but an admin, and the refusals are in the audit log", async () => {
    const { createWebhookAction, removeWebhookAction } = await import("@/app/admin/webhooks/actions");
    expect(await createWebhookAction(null, newHook())).toMatchObject({ ok: false, code: "unauthenticated" });
    for (const [name, roles] of [
      ["vic", ["viewer"]],
      ["rita", ["releaser", "auditor"]],
    ] as const) {
      await signedInAs(name, [...roles]);
      expect(await createWebhookAction(null, newHook())).toMatchObject({ ok: false, code: "forbidden" });
      expect(await removeWebhookAction(null, form({ id: "1" }))).toMatchObject({ ok: false, code: "forbidden" });
    }
    expect(await openAudit(root).webhook.count()).toBe(0);
    const denied = (await allEvents(openAudit(root))).filter((e) => e.action === "auth.denied");
    expect(denied.map((e) => [e.actor, JSON.parse(e.details).permission])).toEqual(
      expect.arrayContaining([
        ["anonymous", "webhooks.manage"],
        ["vic", "webhooks.manage"],
        ["rita", "webhooks.manage"],
      ]),
    );
    expect(databaseBytes()).not.toContain(SECRET);
  });

  it("let an admin add a webhook and send it a ping; the secret is in no answer, log line or byte of the database", async () => {
    const { createWebhookAction, testWebhookAction } = await import("@/app/admin/webhooks/actions");
    await signedInAs("ada", ["admin"]);
    const created = await createWebhookAction(null, newHook());
    expect(created).toEqual({ ok: true, data: { id: 1, url: receiver.url } });
    const pinged = await testWebhookAction(null, form({ id: "1" }));
    expect(pinged).toMatchObject({ ok: true, data: { delivered: true, message: "Ping delivered (HTTP 204)." } });
    expect(receiver.received[0]?.signatureValid).toBe(true);

    // Refused input comes back to the form without the secret, and the refusal is recorded without it.
    const refused = await createWebhookAction(null, form({ url: "gopher://example.com/", secret: SECRET, events: "model.promoted" }));
    expect(refused).toMatchObject({ ok: false, fieldErrors: { url: [expect.stringContaining("http://")] } });
    const tooShort = await createWebhookAction(null, form({ url: receiver.url, secret: "short-one", events: "model.promoted" }));
    expect(tooShort).toMatchObject({ ok: false, code: "invalid_input", fieldErrors: { secret: ["At least 16 characters."] } });
    expect(JSON.stringify(tooShort)).not.toContain("short-one");
    for (const answer of [created, pinged, refused]) expect(JSON.stringify(answer)).not.toContain(SECRET);
    expect(printed.join("\n")).not.toContain(SECRET);
    await closeAudit();
    expect(databaseBytes()).not.toContain(SECRET);
    expect(databaseBytes()).not.toContain("short-one");
  });
});
