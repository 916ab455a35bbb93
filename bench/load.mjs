// Load proof: 50 concurrent readers hammer the dashboard over loopback while promotions and rollbacks run.
// Passes when no request fails and no reader ever sees a torn production (a page whose alias state is not
// "ok" outside a moment a writer holds the lock, or an alias file on disk whose hash matches no version).
// LOAD_SECONDS (default 60) and LOAD_READERS (default 50) set the size. Writes bench/out/load.json.
// LOAD_POSTGRES=1 runs it as a team deploys several machines: LOAD_REPLICAS (default 2) servers over one
// folder and one throwaway PostgreSQL database (made on REGISTRY_TEST_POSTGRES_URL, dropped after), the
// readers spread over the replicas, the writer a CLI on the same database. Writes bench/out/load-postgres.json.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { waitFor } from "./util.mjs";

const repo = join(import.meta.dirname, "..");
const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const READERS = Number(process.env.LOAD_READERS ?? 50);
const PORT = Number(process.env.LOAD_PORT ?? 3311);
const dir = `/tmp/registry-load-${PORT}`;
const root = join(dir, "registry");
const db = join(dir, "audit.db");
const BIN = join(repo, "cli", "bin.mjs");
const POSTGRES = process.env.LOAD_POSTGRES === "1";
const REPLICAS = Number(process.env.LOAD_REPLICAS ?? (POSTGRES ? 2 : 1));
const adminUrl = process.env.REGISTRY_TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const pgName = `${process.env.REGISTRY_TEST_POSTGRES_PREFIX ?? "registry_load_"}${process.pid}`;
const pgUrl = Object.assign(new URL(adminUrl), { pathname: `/${pgName}` }).toString();
const env = POSTGRES
  ? { ...process.env, REGISTRY_ROOT: root, DATABASE_URL: "", REGISTRY_DATABASE_URL: pgUrl, NEXT_TELEMETRY_DISABLED: "1" }
  : { ...process.env, REGISTRY_ROOT: root, DATABASE_URL: `file:${db}`, NEXT_TELEMETRY_DISABLED: "1" };
if (POSTGRES) await onAdmin(`CREATE DATABASE "${pgName}"`);

rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
cpSync(join(repo, "artifacts"), root, { recursive: true, filter: (s) => !s.includes("/.registry") });
execFileSync("node", [BIN, "users", "add", "load", "--role", "viewer", "--password-stdin"], { env, input: "load-password-1" });
const token = POSTGRES ? await openPgSession() : openSession();

const sha = (f) => createHash("sha256").update(readFileSync(f)).digest("hex");
const versionHashes = new Set(
  readdirSync(join(root, "models"))
    .filter((f) => f !== "production_latest.joblib")
    .map((f) => sha(join(root, "models", f))),
);

// A rollback only goes back to a version that was live: each target is put live once by a promotion first.
const targets = ["candidate_logreg_20250305T101000Z", "baseline_logreg_20250211T143000Z", "candidate_logreg_20250709T120000Z"];
for (const v of targets) {
  const gates = ["--min-score", "0", "--override", "no_degradation", "--override", "feature_schema", "--reason", "load set-up"];
  execFileSync("node", [BIN, "promote", "--version", v, ...gates, "--actor", "load-writer"], { env, stdio: "ignore" });
}

const ports = Array.from({ length: REPLICAS }, (_, i) => PORT + i);
const servers = ports.map((p) =>
  spawn("npx", ["next", "start", "-p", String(p), "-H", "127.0.0.1"], { cwd: repo, env, stdio: "ignore", detached: true }),
);
const stats = { requests: 0, errors: 0, tornPages: 0, tornFiles: 0, promotions: 0, promotionFailures: 0, latencies: [] };
try {
  for (const p of ports) await waitFor(`http://127.0.0.1:${p}/api/health`);
  const deadline = Date.now() + SECONDS * 1000;
  const readers = Array.from({ length: READERS }, (_, i) => reader(deadline, ports[i % ports.length]));
  const writer = (async () => {
    for (let i = 0; Date.now() < deadline; i++) {
      const r = spawnSync("node", [BIN, "rollback", "--to", targets[i % targets.length], "--reason", "load", "--actor", "load-writer"], {
        env,
        encoding: "utf8",
      });
      if (r.status === 0) stats.promotions++;
      else stats.promotionFailures++;
      await new Promise((res) => setTimeout(res, 200));
    }
  })();
  await Promise.all([...readers, writer]);
} finally {
  for (const server of servers) process.kill(-server.pid, "SIGTERM");
}

const s = [...stats.latencies].sort((a, b) => a - b);
const pct = (p) => Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0);
const verify = JSON.parse(spawnSync("node", [BIN, "audit", "verify", "--json"], { env, encoding: "utf8" }).stdout);
if (POSTGRES) await onAdmin(`DROP DATABASE IF EXISTS "${pgName}" WITH (FORCE)`);
const result = {
  database: POSTGRES ? "postgresql" : "sqlite",
  replicas: REPLICAS,
  seconds: SECONDS,
  readers: READERS,
  requests: stats.requests,
  requestsPerSecond: Math.round(stats.requests / SECONDS),
  errors: stats.errors,
  tornPages: stats.tornPages,
  tornFiles: stats.tornFiles,
  changesOfProduction: stats.promotions,
  failedChanges: stats.promotionFailures,
  latencyMs: { p50: pct(50), p95: pct(95), p99: pct(99), max: Math.round(s.at(-1) ?? 0) },
  auditChain: verify.ok ? `intact (${verify.count} events)` : "BROKEN",
};
mkdirSync(join(repo, "bench", "out"), { recursive: true });
writeFileSync(join(repo, "bench", "out", POSTGRES ? "load-postgres.json" : "load.json"), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
const ok =
  result.errors === 0 &&
  result.tornPages === 0 &&
  result.tornFiles === 0 &&
  result.failedChanges === 0 &&
  verify.ok &&
  result.changesOfProduction > 0;
console.log(ok ? "load proof: 1 passed, 0 failed" : "load proof: 0 passed, 1 failed");
process.exit(ok ? 0 : 1);

async function reader(deadline, port) {
  while (Date.now() < deadline) {
    const t = performance.now();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { cookie: `registry_session=${token}` } });
      const html = await res.text();
      stats.latencies.push(performance.now() - t);
      stats.requests++;
      if (res.status !== 200) stats.errors++;
      else if (!html.includes("Alias OK")) stats.tornPages++;
    } catch {
      stats.errors++;
    }
    // What an API loading the alias would get: a whole file of some version, never a partial one.
    const h = sha(join(root, "models", "production_latest.joblib"));
    if (!versionHashes.has(h)) stats.tornFiles++;
  }
}

/** A session for the load account, written straight into the database (sign-in is not what is measured). */
function openSession() {
  const conn = new Database(db);
  const user = conn.prepare("SELECT id FROM User WHERE username = ?").get("load");
  const value = randomBytes(32).toString("base64url");
  const now = Date.now();
  conn
    .prepare("INSERT INTO Session (id, userId, createdAt, expiresAt, address) VALUES (?, ?, ?, ?, ?)")
    .run(
      createHash("sha256").update(value).digest("hex"),
      user.id,
      new Date(now).toISOString(),
      new Date(now + 3_600_000).toISOString(),
      "load",
    );
  conn.close();
  return value;
}

/** The same session, written into PostgreSQL. */
async function openPgSession() {
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  try {
    const { rows } = await c.query(`SELECT id FROM "User" WHERE username = $1`, ["load"]);
    const value = randomBytes(32).toString("base64url");
    const now = Date.now();
    await c.query(`INSERT INTO "Session" (id, "userId", "createdAt", "expiresAt", address) VALUES ($1, $2, $3, $4, $5)`, [
      createHash("sha256").update(value).digest("hex"),
      rows[0].id,
      new Date(now).toISOString(),
      new Date(now + 3_600_000).toISOString(),
      "load",
    ]);
    return value;
  } finally {
    await c.end();
  }
}

async function onAdmin(sql) {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
