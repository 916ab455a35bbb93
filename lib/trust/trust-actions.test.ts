import { resolve } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { allEvents, closeAudit, openAudit } from "@/lib/audit";
import { flushRefusals } from "@/lib/audit/refusals";
import { signIn } from "@/lib/auth";
import { createUser } from "@/lib/auth/test-support/accounts";
import { removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";
import { listTrusted } from "@/lib/trust/trust-list";

// The trust list's server actions, attacked first: only an admin, signed in, may change it; the deny list
// holds whoever asks; every change and refusal is audited. Real wrapper, sessions, SQLite and audit chain;
// only Next's request (cookies, headers) and its cache hook are stood in for, as outside Next there is none.
const request = { token: undefined as string | undefined };
vi.mock("server-only", () => ({}));
vi.mock("next/cache", () => ({ revalidatePath: () => {} }));
vi.mock("next/headers", () => ({
  cookies: async () => ({
    get: (name: string) => (name === "registry_session" && request.token ? { name, value: request.token } : undefined),
  }),
  headers: async () => new Headers({ "x-real-ip": "203.0.113.7" }),
}));

const { trustAddAction, trustRemoveAction } = await import("@/app/admin/settings/actions");
let root: string;

beforeAll(() => {
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../../prisma/migrations");
});
beforeEach(() => {
  root = tempRegistry();
  process.env.REGISTRY_ROOT = root;
  delete process.env.DATABASE_URL;
});
afterEach(async () => {
  request.token = undefined;
  await closeAudit();
  removeRegistry(root);
});

async function signedInAs(username: string, roles: string[]): Promise<void> {
  const db = openAudit(root);
  await createUser(db, { username, password: `${username}-test-password`, roles, createdBy: "test" });
  const session = await signIn(db, { username, password: `${username}-test-password`, address: "203.0.113.7" });
  if (!session.ok) throw new Error(session.error);
  request.token = session.token;
}

function form(fields: Record<string, string>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  return f;
}

const WINSORIZER = { path: "acme_features.Winsorizer", reason: "our clipping transformer" };

describe("the trust list's actions", () => {
  it("refuse anyone not signed in, and a releaser, and audit both refusals", async () => {
    expect(await trustAddAction(null, form(WINSORIZER))).toMatchObject({ ok: false, code: "unauthenticated" });
    await signedInAs("rel", ["viewer", "releaser"]);
    expect(await trustAddAction(null, form(WINSORIZER))).toMatchObject({ ok: false, code: "forbidden" });
    expect(await listTrusted(openAudit(root))).toEqual([]);
    await flushRefusals(openAudit(root), new Date(Date.now() + 120_000));
    const denied = (await allEvents(openAudit(root))).filter((e) => e.action === "auth.denied");
    expect(denied.map((e) => e.actor).sort()).toEqual(["anonymous", "rel"].sort());
  });

  it("let an admin trust and stop trusting a class, each audited with the reason and the admin as actor", async () => {
    await signedInAs("root-admin", ["admin"]);
    expect(await trustAddAction(null, form(WINSORIZER))).toEqual({ ok: true, data: { path: WINSORIZER.path, changed: true } });
    expect(await listTrusted(openAudit(root))).toMatchObject([{ path: WINSORIZER.path, addedBy: "root-admin", reason: WINSORIZER.reason }]);
    expect(await trustRemoveAction(null, form({ path: WINSORIZER.path, reason: "replaced" }))).toMatchObject({ ok: true });
    expect(await listTrusted(openAudit(root))).toEqual([]);
    const events = (await allEvents(openAudit(root))).filter((e) => e.action.startsWith("trust."));
    expect(events.map((e) => [e.action, e.actor, e.source])).toEqual([
      ["trust.added", "root-admin", "web"],
      ["trust.removed", "root-admin", "web"],
    ]);
  });

  it("refuse an admin who names something on the deny list, and audit it", async () => {
    await signedInAs("root-admin", ["admin"]);
    const result = await trustAddAction(null, form({ path: "builtins.eval", reason: "needed for our model" }));
    expect(result).toMatchObject({ ok: false, code: "refused" });
    expect(await listTrusted(openAudit(root))).toEqual([]);
    const refused = (await allEvents(openAudit(root))).filter((e) => e.action === "trust.change_refused");
    expect(refused).toHaveLength(1);
  });

  it("refuse a prefix or wildcard as invalid input, naming the field", async () => {
    await signedInAs("root-admin", ["admin"]);
    const result = await trustAddAction(null, form({ path: "acme_features.*", reason: "everything of ours" }));
    expect(result).toMatchObject({
      ok: false,
      code: "invalid_input",
      fieldErrors: { path: [expect.stringMatching(/exact module\.name/)] },
    });
  });
});
