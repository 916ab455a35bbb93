import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type APIRequestContext, type APIResponse, expect, request as playwrightRequest, test } from "@playwright/test";
import Database from "better-sqlite3";
import { type OwnServer, startOwnServer } from "./own-server";

// The HTTP API journey of a CI pipeline on another machine: tokens made with the CLI, every endpoint's
// answers against a server of its own (`npm start`, a fresh copy of the demo registry and database), the
// refusals it audits, its rate limits, and `registry --server` giving the local command's JSON.
// The server trusts 127.0.0.1 as a proxy, so a test can speak for another client address (X-Forwarded-For).

test.use({ storageState: { cookies: [], origins: [] } });
test.describe.configure({ mode: "serial" });

const BEST = "candidate_logreg_20250305T101000Z";
const PRODUCTION = "baseline_logreg_20250211T143000Z";
const LOW = "baseline_logreg_20250527T084500Z"; // pr_auc 0.578: under the 0.60 threshold
const RATE = 40;
let server: OwnServer;
let api: APIRequestContext;
const tokens: Record<string, string> = {};

function env() {
  return { ...process.env, REGISTRY_ROOT: join(server.dir, "registry"), DATABASE_URL: `file:${join(server.dir, "audit.db")}` };
}

/** The real CLI on the server's registry and database (as the registry's machine runs it). */
function cli(args: string[], extra: Record<string, string> = {}, input?: string) {
  const r = spawnSync("node", [join(process.cwd(), "cli", "bin.mjs"), ...args], { encoding: "utf8", env: { ...env(), ...extra }, input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

function makeToken(name: string, role: string, expires = "1d"): string {
  const r = cli(["tokens", "create", "--name", name, "--role", role, "--expires", expires, "--json"]);
  expect(r.status, r.stderr).toBe(0);
  return r.json().token as string;
}

const bearer = (name: string, more: Record<string, string> = {}) => ({ headers: { authorization: `Bearer ${tokens[name]}`, ...more } });

/** The audit events of one action, newest first, read through the API as an auditor. */
async function events(action: string) {
  const res = await api.get(`/api/v1/audit?action=${action}&limit=100`, bearer("auditor"));
  expect(res.status()).toBe(200);
  return (await res.json()).events as { actor: string; source: string; action: string; reason: string; details: string }[];
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  // Sockets kept alive longer than the CLI steps between two requests: Playwright reuses an idle one, and
  // one the server closed at that moment (Node's 5 s default) failed a request with ECONNRESET under load.
  server = await startOwnServer("api", ["bash", "scripts/start.sh", "-p", "0", "-H", "127.0.0.1", "--keepAliveTimeout", "120000"], {
    REGISTRY_TRUSTED_PROXIES: "127.0.0.1",
    REGISTRY_SIGNIN_BACKOFF_SECONDS: "600",
    REGISTRY_API_RATE_LIMIT: String(RATE),
  });
  const roles: [string, string][] = [
    ["ci", "releaser"],
    ["viewer", "viewer"],
    ["auditor", "auditor"],
    ["burst", "viewer"],
  ];
  for (const [name, role] of roles) tokens[name] = makeToken(name, role);
  api = await playwrightRequest.newContext({ baseURL: server.url });
});

test.afterAll(async () => {
  await api?.dispose();
  await server?.stop();
});

test("reads: production, versions page by page, one version; 404 and 400 for unknown and malformed names", async () => {
  const prod = await api.get("/api/v1/production", bearer("viewer"));
  expect(prod.status()).toBe(200);
  expect(await prod.json()).toMatchObject({ stem: PRODUCTION, state: "ok", metric: "pr_auc", since: null, by: null });

  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const res: APIResponse = await api.get(
      `/api/v1/versions?limit=4&sort=score&dir=desc${cursor ? `&cursor=${cursor}` : ""}`,
      bearer("viewer"),
    );
    expect(res.status()).toBe(200);
    const page: { total: number; versions: { stem: string }[]; nextCursor: string | null } = await res.json();
    expect(page.total).toBe(9);
    seen.push(...page.versions.map((v: { stem: string }) => v.stem));
    cursor = page.nextCursor;
  } while (cursor);
  expect(seen).toHaveLength(9);
  expect(new Set(seen).size).toBe(9);
  expect(seen[0]).toBe(BEST);

  const one = await api.get(`/api/v1/versions/${BEST}`, bearer("viewer"));
  expect(one.status()).toBe(200);
  const body = await one.json();
  expect(body.version.stem).toBe(BEST);
  expect(body.checks.map((c: { name: string }) => c.name)).toContain("min_score");
  // A read never starts the sandbox (a viewer's token least of all): with no answer yet there is no load check.
  expect(body.checks.map((c: { name: string }) => c.name)).not.toContain("loads_and_predicts");

  const unknown = await api.get("/api/v1/versions/candidate_logreg_20990101T000000Z", bearer("viewer"));
  expect(unknown.status()).toBe(404);
  expect((await unknown.json()).error.code).toBe("unknown_version");
  const malformed = await api.get("/api/v1/versions/..%2F..%2Fetc", bearer("viewer"));
  expect(malformed.status()).toBe(400);
  expect((await malformed.json()).error.code).toBe("invalid_input");
  expect((await api.get("/api/v1/versions?limit=5000", bearer("viewer"))).status()).toBe(400);
});

test("versions: paging on while versions are written sees each version there at the start once; a bad cursor is a 400", async () => {
  tokens.pager = makeToken("pager", "viewer");
  const registry = join(server.dir, "registry");
  const metrics = JSON.parse(readFileSync(join(registry, "metrics", `${LOW}.json`), "utf8"));
  const written: string[] = [];
  // A training job's new version: the lowest score yet, so it sorts first by score ascending (before the cursor).
  const train = () => {
    const hour = String(written.length).padStart(2, "0");
    const stem = `candidate_logreg_20260101T${hour}0000Z`;
    copyFileSync(join(registry, "models", `${LOW}.joblib`), join(registry, "models", `${stem}.joblib`));
    const doc = {
      ...metrics,
      artifact: `${stem}.joblib`,
      trained_at: `2026-01-01T${hour}:00:00Z`,
      metrics: { ...metrics.metrics, pr_auc: 0.5 - written.length / 100 },
    };
    writeFileSync(join(registry, "metrics", `${stem}.json`), JSON.stringify(doc));
    written.push(stem);
  };
  const get = (query: string) => api.get(`/api/v1/versions?${query}`, bearer("pager"));
  try {
    const seen: string[] = [];
    let cursor: string | null = null;
    let atStart = 0;
    do {
      const res: APIResponse = await get(`limit=3&sort=score&dir=asc${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status()).toBe(200);
      const page: { total: number; versions: { stem: string }[]; nextCursor: string | null } = await res.json();
      atStart ||= page.total;
      seen.push(...page.versions.map((v) => v.stem));
      cursor = page.nextCursor;
      train();
    } while (cursor);
    expect(atStart).toBe(9);
    expect(seen.filter((s) => !written.includes(s))).toHaveLength(9);
    expect(new Set(seen).size).toBe(seen.length);

    const first = await (await get("limit=2&sort=score&dir=asc")).json();
    const answers = {
      garbled: await get("limit=2&sort=score&dir=asc&cursor=abc"),
      notBase64: await get("limit=2&sort=score&dir=asc&cursor=%2F%2F"),
      otherOrder: await get(`limit=2&sort=stem&dir=asc&cursor=${first.nextCursor}`),
    };
    for (const [what, res] of Object.entries(answers)) {
      expect(res.status(), what).toBe(400);
      expect((await res.json()).error.code, what).toBe("invalid_input");
    }
    expect((await answers.otherOrder.json()).fieldErrors.cursor[0]).toMatch(/continues another order/);
    // A number, as cursors were before keys, is still read as a position.
    const legacy = await (await get("limit=2&sort=score&dir=asc&cursor=2")).json();
    expect(legacy.versions.map((v: { stem: string }) => v.stem)).toEqual(
      (await (await get("limit=4&sort=score&dir=asc")).json()).versions.slice(2).map((v: { stem: string }) => v.stem),
    );
  } finally {
    for (const stem of written) {
      rmSync(join(registry, "models", `${stem}.joblib`));
      rmSync(join(registry, "metrics", `${stem}.json`));
    }
  }
});

test("promotions: dry run, 400 for bad input (audited), 422 refused with the plan, 409 when production moved, 200 applied", async () => {
  const post = (body: unknown, who = "ci") => api.post("/api/v1/promotions", { ...bearer(who), data: body });

  const dry = await post({ dryRun: true });
  expect(dry.status()).toBe(200);
  expect(await dry.json()).toMatchObject({ to: BEST, dryRun: true, refused: false, promoted: false });

  const bad = await post({ version: BEST, reason: "x", shout: true });
  expect(bad.status()).toBe(400);
  expect(Object.keys((await bad.json()).fieldErrors)).toEqual(["reason"]);
  const notJson = await api.post("/api/v1/promotions", {
    ...bearer("ci"),
    headers: { ...bearer("ci").headers, "content-type": "text/plain" },
    data: "promote",
  });
  expect(notJson.status()).toBe(400);
  expect((await events("request.rejected"))[0]).toMatchObject({ actor: "ci", source: "api" });

  const refused = await post({ version: LOW, reason: "not good enough" });
  expect(refused.status()).toBe(422);
  const r = await refused.json();
  expect(r.error.code).toBe("refused");
  expect(r.result).toMatchObject({ to: LOW, refused: true, promoted: false });

  const moved = await post({ version: BEST, reason: "ship it", expectedProductionSha256: "0".repeat(64) });
  expect(moved.status()).toBe(409);
  expect((await moved.json()).error.code).toBe("production_changed");

  const current = (await (await api.get("/api/v1/production", bearer("ci"))).json()).sha256;
  const done = await post({ version: BEST, reason: "ship it", expectedProductionSha256: current });
  expect(done.status()).toBe(200);
  expect(await done.json()).toMatchObject({ promoted: true, from: PRODUCTION, to: BEST });
  const promoted = (await events("model.promoted"))[0];
  expect(promoted).toMatchObject({ actor: "ci", source: "api", reason: "ship it" });
  expect(await (await api.get("/api/v1/production", bearer("viewer"))).json()).toMatchObject({ stem: BEST, by: "ci" });
});

test("rollbacks: 422 for a version never live, 200 back to the previous production", async () => {
  const never = await api.post("/api/v1/rollbacks", { ...bearer("ci"), data: { to: LOW, reason: "try it" } });
  expect(never.status()).toBe(422);
  expect((await never.json()).error.code).toBe("never_live");
  expect((await api.post("/api/v1/rollbacks", { ...bearer("ci"), data: { reason: "neither" } })).status()).toBe(400);
  const back = await api.post("/api/v1/rollbacks", { ...bearer("ci"), data: { previous: true, reason: "regression" } });
  expect(back.status()).toBe(200);
  expect(await back.json()).toMatchObject({ rolledBack: true, to: PRODUCTION, previous: { stem: PRODUCTION } });
});

test("audit: auditors page through events and verify the chain; viewers may not list", async () => {
  const first = await (await api.get("/api/v1/audit?limit=2", bearer("auditor"))).json();
  expect(first.events).toHaveLength(2);
  const second = await (await api.get(`/api/v1/audit?limit=2&cursor=${first.nextCursor}`, bearer("auditor"))).json();
  expect(second.events[0].seq).toBe(first.events[1].seq - 1);
  expect((await api.get("/api/v1/audit", bearer("viewer"))).status()).toBe(403);
  const verify = await api.get("/api/v1/audit/verify", bearer("viewer"));
  expect(verify.status()).toBe(200);
  expect(await verify.json()).toMatchObject({ ok: true });
});

test("audit: paging on while events are appended sees each event there at the start once; a bad cursor is a 400", async () => {
  tokens.reader = makeToken("audit-reader", "auditor");
  const seqs: number[] = [];
  let cursor: string | null = null;
  let newest = 0;
  let appended = 0;
  do {
    const res: APIResponse = await api.get(`/api/v1/audit?limit=4${cursor ? `&cursor=${cursor}` : ""}`, bearer("reader"));
    expect(res.status()).toBe(200);
    const page: { events: { seq: number }[]; nextCursor: string | null } = await res.json();
    newest ||= page.events[0]?.seq ?? 0;
    seqs.push(...page.events.map((e) => e.seq));
    cursor = page.nextCursor;
    // Someone else acts meanwhile: each creation is a new event at the head of the log.
    if (cursor && appended < 3) expect(cli(["tokens", "create", "--name", `meanwhile${appended++}`, "--role", "viewer"]).status).toBe(0);
  } while (cursor);
  expect(seqs.length).toBeGreaterThan(8);
  expect(seqs).toEqual(Array.from({ length: newest }, (_, i) => newest - i));
  const bad = await api.get("/api/v1/audit?cursor=abc", bearer("reader"));
  expect(bad.status()).toBe(400);
  expect((await bad.json()).error.code).toBe("invalid_input");
});

test("token life cycle: missing, unknown, expired, revoked and wrong-role tokens are refused and audited", async () => {
  tokens.old = makeToken("old2", "releaser");
  // A token whose time ran out (set in the database, as the clock would).
  const db = new Database(join(server.dir, "audit.db"));
  db.prepare(`UPDATE "ApiToken" SET "expiresAt" = ? WHERE "name" = 'old2'`).run(new Date(Date.now() - 1000).toISOString());
  db.close();
  tokens.revoked = makeToken("gone", "releaser");
  expect(cli(["tokens", "revoke", "gone"]).status).toBe(0);

  expect((await api.get("/api/v1/production")).status()).toBe(401);
  const unknown = await api.get("/api/v1/production", { headers: { authorization: `Bearer mrt_${"B".repeat(43)}` } });
  expect(unknown.status()).toBe(401);
  expect((await unknown.json()).error.message).toMatch(/not recognised/);
  const expired = await api.get("/api/v1/production", bearer("old"));
  expect(expired.status()).toBe(401);
  expect((await expired.json()).error.message).toMatch(/expired/);
  const revoked = await api.get("/api/v1/production", bearer("revoked"));
  expect(revoked.status()).toBe(401);
  expect((await revoked.json()).error.message).toMatch(/revoked/);
  const wrongRole = await api.post("/api/v1/promotions", { ...bearer("viewer"), data: { reason: "let me", dryRun: true } });
  expect(wrongRole.status()).toBe(403);

  const denied = await events("auth.denied");
  const who = denied.map((e) => `${e.actor}/${e.source}`);
  expect(who).toEqual(expect.arrayContaining(["old2/api", "gone/api", "viewer/api", "anonymous/api"]));
  const all = JSON.stringify(await (await api.get("/api/v1/audit?limit=1000", bearer("auditor"))).json());
  for (const t of Object.values(tokens)) expect(all).not.toContain(t.slice(12));
  const listed = cli(["tokens", "list", "--json"]).json().tokens as { name: string; state: string; lastUsedAt: string | null }[];
  expect(listed.find((t) => t.name === "gone")?.state).toBe("revoked");
  expect(listed.find((t) => t.name === "old2")?.state).toBe("expired");
  expect(listed.find((t) => t.name === "ci")?.lastUsedAt).not.toBeNull();
});

test("429 past a token's requests a minute, with Retry-After, audited", async () => {
  // Counted per minute: if a minute ends during the burst, the next one fills up within RATE + 1 more.
  let status = 200;
  for (let n = 0; n <= 2 * RATE + 1 && status === 200; n++) status = (await api.get("/api/v1/production", bearer("burst"))).status();
  expect(status).toBe(429);
  const res = await api.get("/api/v1/production", bearer("burst"));
  expect(res.status()).toBe(429);
  expect(Number(res.headers()["retry-after"])).toBeGreaterThan(0);
  expect((await events("api.rate_limited"))[0]).toMatchObject({ actor: "burst", source: "api" });
  // Another token is not slowed down by it.
  expect((await api.get("/api/v1/production", bearer("viewer"))).status()).toBe(200);
});

test("429 for an address past 20 bad tokens, even with a good one; other addresses unaffected", async () => {
  const from = (address: string, token: string) => ({ headers: { authorization: `Bearer ${token}`, "x-forwarded-for": address } });
  const guess = `mrt_${"A".repeat(43)}`;
  for (let i = 0; i < 20; i++) expect((await api.get("/api/v1/production", from("198.51.100.7", guess))).status()).toBe(401);
  expect((await api.get("/api/v1/production", from("198.51.100.7", guess))).status()).toBe(429);
  const good = await api.get("/api/v1/production", from("198.51.100.7", tokens.viewer as string));
  expect(good.status()).toBe(429);
  expect(Number(good.headers()["retry-after"])).toBeGreaterThan(0);
  expect((await api.get("/api/v1/production", from("198.51.100.8", tokens.viewer as string))).status()).toBe(200);
});

test("cookies never authenticate the API; a token never opens a page", async ({ browser }) => {
  expect(cli(["users", "add", "alice", "--role", "releaser", "--password-stdin"], {}, "alice-api-e2e-password").status).toBe(0);
  const context = await browser.newContext({ baseURL: server.url, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByLabel("Username").fill("alice");
  await page.getByLabel("Password").fill("alice-api-e2e-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/login/);
  const withCookie = await context.request.get("/api/v1/production");
  expect(withCookie.status()).toBe(401);
  await context.close();

  const pageWithToken = await api.get("/", { ...bearer("ci"), maxRedirects: 0 });
  expect([303, 307]).toContain(pageWithToken.status());
  expect(pageWithToken.headers().location).toMatch(/\/login/);
});

test("with the two-person rule on, a promotion is filed as a request: 202", async () => {
  const db = new Database(join(server.dir, "audit.db"));
  db.prepare(`INSERT INTO "Setting" ("key", "value", "updatedAt", "updatedBy") VALUES ('approvals', 'required', ?, 'e2e')`).run(
    new Date().toISOString(),
  );
  db.close();
  try {
    // "ci" was made from a shell with no account: nobody could tell its maker from an approver, so it may not ask.
    const bare = await api.post("/api/v1/promotions", { ...bearer("ci"), data: { version: BEST, reason: "needs a second look" } });
    expect(bare.status()).toBe(400);
    expect(await bare.json()).toMatchObject({ error: { code: "account_required" } });
    // A token a releaser's account made asks on that person's behalf.
    expect(cli(["users", "add", "relay", "--role", "releaser", "--password-stdin"], {}, "relay-password-1\n").status).toBe(0);
    const made = cli(["tokens", "create", "--name", "ci-relay", "--role", "releaser", "--json", "--user", "relay", "--password-stdin"], {}, "relay-password-1");
    expect(made.status, made.stderr).toBe(0);
    tokens["ci-relay"] = made.json().token as string;
    const res = await api.post("/api/v1/promotions", { ...bearer("ci-relay"), data: { version: BEST, reason: "needs a second look" } });
    expect(res.status()).toBe(202);
    expect(await res.json()).toMatchObject({ requested: true, promoted: false, to: BEST, requestId: expect.any(Number) });
    const [asked] = await events("approval.requested");
    expect(asked).toMatchObject({ actor: "ci-relay", source: "api" });
    expect(JSON.parse(asked!.details)).toMatchObject({ tokenMadeBy: "relay", requesterPerson: "relay" });
  } finally {
    const off = new Database(join(server.dir, "audit.db"));
    off.prepare(`DELETE FROM "Setting" WHERE "key" = 'approvals'`).run();
    off.close();
  }
});

test("registry --server gives the local command's JSON and exit code", async () => {
  const remote = (args: string[], token = "ci") =>
    cli(["--server", server.url, ...args], { REGISTRY_TOKEN: tokens[token] as string, REGISTRY_ROOT: "/nonexistent" });
  const local = (args: string[]) => cli(args);
  const same = (args: string[], drop: string[] = [], token = "ci") => {
    const a = local(args);
    const b = remote(args, token);
    expect(b.status, `${args.join(" ")}: ${b.stderr}${b.stdout.slice(0, 300)}`).toBe(a.status);
    const strip = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => !drop.includes(k)));
    expect(strip(b.json()), args.join(" ")).toEqual(strip(a.json()));
    return a;
  };
  same(["list", "--json"], ["root"]);
  same(["show", BEST, "--json"]);
  expect(same(["promote", "--dry-run", "--json"]).status).toBe(0);
  expect(same(["promote", "--version", LOW, "--dry-run", "--json"]).status).toBe(3);
  expect(same(["rollback", "--to", LOW, "--dry-run", "--json"]).status).toBe(3);
  expect(same(["audit", "verify", "--json"]).status).toBe(0);
  // Errors: the same code and exit code (the messages may name the door).
  const unknown = ["show", "candidate_logreg_20990101T000000Z", "--json"];
  expect(remote(unknown).status).toBe(local(unknown).status);
  expect(remote(unknown).json().error.code).toBe(local(unknown).json().error.code);

  const promoted = remote(["promote", "--version", BEST, "--reason", "from CI", "--json"]);
  expect(promoted.status).toBe(0);
  expect(promoted.json()).toMatchObject({ promoted: true, to: BEST });
  same(["audit", "list", "--limit", "5", "--json"], [], "auditor");
  const noToken = cli(["--server", server.url, "list", "--json"], { REGISTRY_TOKEN: "" });
  expect(noToken.status).toBe(4);
  const wrongRole = cli(["--server", server.url, "promote", "--reason", "hello", "--json"], { REGISTRY_TOKEN: tokens.viewer as string });
  expect(wrongRole.status).toBe(4);
  expect(wrongRole.json().error.code).toBe("forbidden");
});

test("the OpenAPI document is served to anyone", async () => {
  const res = await api.get("/api/v1/openapi.json");
  expect(res.status()).toBe(200);
  const doc = await res.json();
  expect(doc.openapi).toBe("3.1.0");
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/v1/promotions", "/api/v1/versions/{stem}"]));
});
