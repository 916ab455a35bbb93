import { request } from "node:http";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import Database from "better-sqlite3";
import { type OwnServer, startOwnServer } from "./own-server";

// Sign-in through a reverse proxy (REGISTRY_AUTH_PROXY=1) as an attacker who reaches the dashboard without
// going through that proxy tries it: raw HTTP with the identity headers the proxy would have set. Only a
// peer named in REGISTRY_TRUSTED_PROXIES may vouch for someone; scripts/server.mjs removes the headers from
// everyone else, refuses to start in proxy mode with no trusted proxy, and a server it did not start (a bare
// `next start`) believes no identity header at all. Servers of their own: a fresh registry and database each.

test.use({ storageState: { cookies: [], origins: [] } });
test.describe.configure({ mode: "serial" });

const PROXY = "127.0.0.9"; // a loopback address this test can connect from, standing for the reverse proxy
const ATTACKER = "127.0.0.1";
const PROXY_MODE = { REGISTRY_AUTH_PROXY: "1", REGISTRY_AUTH_PROXY_ROLES: "ml-admin:admin,*:viewer" };
const NO_TRUSTED_PROXY = { REGISTRY_TRUSTED_PROXIES: "", REGISTRY_TRUST_PROXY: "" };

interface Answer {
  status: number;
  location: string;
  text: string;
}

/** GET `path` from the local address `from`, with `headers`, as raw HTTP (no browser, no cookies). */
function get(server: OwnServer, path: string, from: string, headers: Record<string, string>): Promise<Answer> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: "GET", localAddress: from, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          location: String(res.headers.location ?? ""),
          text: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

/** Whether the answer is the accounts page, shown to `username` as an admin. */
function signedInAsAdmin(answer: Answer, username: string): boolean {
  return (
    answer.status === 200 &&
    answer.text.includes("<h1>Accounts</h1>") &&
    answer.text.includes(`<span>${username}<!-- --> <span class="muted-dark">`)
  );
}

/** The refusals of proxy identities the server's database accounts for: chained one by one, summarised, or still counted. */
function proxyRefusals(server: OwnServer): { chained: { address: string; claimed: string }[]; accounted: number } {
  const db = new Database(join(server.dir, "audit.db"), { readonly: true, timeout: 10_000 });
  try {
    const rows = db.prepare("SELECT action, details FROM AuditEvent WHERE action IN ('auth.denied', 'auth.denied_aggregated')").all() as {
      action: string;
      details: string;
    }[];
    const mine = rows
      .map((r) => ({
        action: r.action,
        details: JSON.parse(r.details) as { action?: string; address: string; claimed: string; count?: number },
      }))
      .filter((r) => r.details.action === "proxy-sign-in");
    const pending = db
      .prepare(
        "SELECT COALESCE(SUM(seen - written - summarised), 0) AS n FROM RefusalWindow WHERE kind = 'auth.denied' AND action = 'proxy-sign-in'",
      )
      .get() as { n: number };
    return {
      chained: mine.filter((r) => r.action === "auth.denied").map((r) => r.details),
      accounted: mine.reduce((n, r) => n + (r.action === "auth.denied" ? 1 : (r.details.count ?? 0)), 0) + pending.n,
    };
  } finally {
    db.close();
  }
}

test("proxy sign-in with no trusted proxy named: npm start refuses to start, saying what to set", async () => {
  test.setTimeout(90_000);
  let started: OwnServer | null = null;
  const outcome = await startOwnServer("proxy-no-trust", ["bash", "scripts/start.sh", "-p", "0", "-H", "127.0.0.1"], {
    ...PROXY_MODE,
    ...NO_TRUSTED_PROXY,
  }).then(
    (server) => {
      started = server;
      return "listening";
    },
    (e: Error) => e.message,
  );
  await (started as OwnServer | null)?.stop();
  expect(outcome).toMatch(/exited with 2/);
  expect(outcome).toMatch(/REGISTRY_AUTH_PROXY=1 needs REGISTRY_TRUSTED_PROXIES/);
});

test.describe("behind npm start (scripts/server.mjs) trusting one proxy", () => {
  let server: OwnServer;
  // oauth2-proxy's names: the server must strip whichever names are configured.
  const AS_ADMIN = { "x-auth-request-user": "admin", "x-auth-request-groups": "ml-admin" };

  test.beforeAll(async () => {
    test.setTimeout(120_000);
    server = await startOwnServer("proxy-server", ["bash", "scripts/start.sh", "-p", "0", "-H", "127.0.0.1"], {
      ...PROXY_MODE,
      REGISTRY_TRUSTED_PROXIES: PROXY,
      REGISTRY_AUTH_PROXY_USER_HEADER: "X-Auth-Request-User",
      REGISTRY_AUTH_PROXY_GROUPS_HEADER: "X-Auth-Request-Groups",
    });
  });
  test.afterAll(async () => {
    await server?.stop();
  });

  test("the identity headers from a peer that is not the proxy sign nobody in, whatever else it forges", async () => {
    const forged = await get(server, "/admin/users", ATTACKER, {
      ...AS_ADMIN,
      "x-registry-vetted": "guess",
      "x-forwarded-for": PROXY,
      "x-registry-client-address": PROXY,
    });
    expect(signedInAsAdmin(forged, "admin")).toBe(false);
    expect(forged.location).toContain("/forbidden");
  });

  test("the same headers from the trusted proxy sign the person in, with the roles their groups map to", async () => {
    const vouched = await get(server, "/admin/users", PROXY, AS_ADMIN);
    expect(signedInAsAdmin(vouched, "admin")).toBe(true);
    expect(signedInAsAdmin(await get(server, "/admin/users", PROXY, { "x-auth-request-user": "sam" }), "sam")).toBe(false);
  });
});

test.describe("a bare `next start` (nothing vets the headers)", () => {
  let server: OwnServer;

  test.beforeAll(async () => {
    test.setTimeout(120_000);
    server = await startOwnServer("proxy-bare", ["node_modules/.bin/next", "start", "-p", "0", "-H", "127.0.0.1"], {
      ...PROXY_MODE,
      REGISTRY_TRUSTED_PROXIES: `${PROXY},${ATTACKER}`,
    });
  });
  test.afterAll(async () => {
    await server?.stop();
  });

  test("believes no identity header, from any peer, and records the refusals without flooding the log", async () => {
    const forged = { "x-forwarded-user": "admin", "x-forwarded-groups": "ml-admin", "x-registry-client-address": "203.0.113.7" };
    for (const from of [ATTACKER, PROXY]) {
      const answer = await get(server, "/admin/users", from, { ...forged, "x-registry-vetted": "guess" });
      expect(signedInAsAdmin(answer, "admin")).toBe(false);
      expect(answer.location).toContain("/forbidden");
    }
    for (let i = 0; i < 20; i++) await get(server, "/", ATTACKER, forged);

    const refusals = proxyRefusals(server);
    expect(refusals.accounted).toBeGreaterThanOrEqual(22);
    // One row a minute for an anonymous address (lib/audit/refusals.ts); this test may straddle a minute.
    expect(refusals.chained.length).toBeGreaterThanOrEqual(1);
    expect(refusals.chained.length).toBeLessThanOrEqual(2);
    expect(refusals.chained[0]).toMatchObject({ claimed: "admin", address: "unknown" });
    expect(server.output()).toContain("REGISTRY_AUTH_PROXY=1");
  });
});
