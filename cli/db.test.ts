import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyExport } from "@/lib/audit/export";
import { POSTGRES_OFF, throwawayDatabase } from "@/lib/db/test-support/postgres";
import { BEST, PRODUCTION, removeRegistry, sha, tempRegistry } from "@/lib/registry/test-support/fixture";

const BIN = resolve(__dirname, "bin.mjs");
const exec = promisify(execFile);
let root: string;
let database: Awaited<ReturnType<typeof throwawayDatabase>>;

/** Runs the real CLI in its own process, on SQLite (url "") or PostgreSQL. */
async function cli(url: string, ...args: string[]) {
  const env = { ...process.env, DATABASE_URL: "", REGISTRY_DATABASE_URL: url };
  try {
    const { stdout } = await exec("node", [BIN, ...args, "--root", root], { env, encoding: "utf8" });
    return { code: 0, stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
const json = (r: { stdout: string }) => JSON.parse(r.stdout) as Record<string, unknown>;

describe.skipIf(POSTGRES_OFF)("registry db (PostgreSQL)", () => {
  beforeEach(async () => {
    root = tempRegistry();
    database = await throwawayDatabase();
  });
  afterEach(async () => {
    removeRegistry(root);
    await database.drop();
  });

  it("db migrate creates the tables, names the database without its password, and then has nothing to do", async () => {
    const withPassword = database.url.replace("postgres@", "postgres:hunter2secret@");
    const first = await cli(withPassword, "db", "migrate", "--json");
    expect(first.code).toBe(0);
    expect(json(first)).toMatchObject({ provider: "postgresql", applied: expect.arrayContaining(["20261126000000_audit_log"]) });
    expect(first.stdout).not.toContain("hunter2secret");
    expect(json(await cli(database.url, "db", "migrate", "--json"))).toMatchObject({ applied: [] });
  });

  it("db copy moves accounts and the audit log keeping every hash: the chain and an export still verify", async () => {
    expect((await cli("", "promote", "--json")).code).toBe(0);
    expect((await cli("", "rollback", "--to", PRODUCTION, "--reason", "pager", "--json")).code).toBe(0);
    expect((await cli("", "users", "add", "rita", "--role", "releaser", "--json")).code).toBe(0);
    const before = json(await cli("", "audit", "verify", "--json"));
    expect(before).toMatchObject({ ok: true });

    const copied = await cli("", "db", "copy", "--to", database.url, "--json");
    expect(copied.code).toBe(0);
    expect(json(copied)).toMatchObject({ rows: { User: 1, AuditEvent: before.count }, chain: { ok: true, headHash: before.headHash } });

    // The same chain, now served by PostgreSQL, verified by the same command.
    expect(json(await cli(database.url, "audit", "verify", "--json"))).toMatchObject({
      ok: true,
      count: before.count,
      headHash: before.headHash,
    });
    const out = join(root, "export.json");
    expect((await cli(database.url, "audit", "export", "--format", "json", "--out", out)).code).toBe(0);
    expect(verifyExport(readFileSync(out, "utf8"))).toMatchObject({ ok: true });
    expect(json(await cli(database.url, "users", "list", "--json")).users).toMatchObject([{ username: "rita" }]);
    // New events (the export recorded itself, then a promotion's intent and completion) chain on after the copied head.
    expect((await cli(database.url, "promote", "--json")).code).toBe(0);
    expect(json(await cli(database.url, "audit", "verify", "--json"))).toMatchObject({ ok: true, count: (before.count as number) + 3 });

    // A second copy into a database that holds data refuses and changes nothing.
    const again = await cli("", "db", "copy", "--to", database.url, "--json");
    expect(again.code).toBe(3);
    expect(again.stdout + (again.stderr ?? "")).toMatch(/target_not_empty|empty database/);
  });

  it("serialises 16 concurrent CLI promotions and rollbacks: each recorded once, the pair whole, the chain intact", async () => {
    expect((await cli(database.url, "promote", "--json")).code).toBe(0);
    const runs = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        i % 2
          ? cli(database.url, "rollback", "--to", PRODUCTION, "--reason", `r${i}`, "--json")
          : cli(database.url, "promote", "--version", BEST, "--json"),
      ),
    );
    // A change planned against a production that another changed first refuses (exit 3) and writes nothing.
    for (const r of runs) expect([0, 3], r.stderr).toContain(r.code);
    expect(json(await cli(database.url, "audit", "verify", "--json"))).toMatchObject({ ok: true });
    const events = json(await cli(database.url, "audit", "list", "--json", "--limit", "500")).events as {
      seq: number;
      action: string;
      outcome: string;
      correlationId: string;
    }[];
    events.sort((a, b) => a.seq - b.seq);
    // Under the lock an intent is always followed by its own completion before any other intent.
    let open: string | null = null;
    for (const e of events) {
      if (e.outcome === "intent") {
        expect(open).toBeNull();
        open = e.correlationId;
      } else if (open && e.correlationId === open) open = null;
    }
    expect(open).toBeNull();
    // Every attempt (one CLI run) ends with exactly one terminal event.
    const terminal = events.filter((e) => e.outcome !== "intent" && e.action.startsWith("model."));
    const byAttempt = new Map<string, number>();
    for (const e of terminal) byAttempt.set(e.correlationId, (byAttempt.get(e.correlationId) ?? 0) + 1);
    expect([...byAttempt.values()].every((n) => n === 1)).toBe(true);
    expect(byAttempt.size).toBe(17);
    const model = sha(join(root, "models/production_latest.joblib"));
    const metrics = sha(join(root, "metrics/production_latest.json"));
    const pair = [BEST, PRODUCTION].find((s) => sha(join(root, `models/${s}.joblib`)) === model);
    expect(pair).toBeDefined();
    expect(metrics).toBe(sha(join(root, `metrics/${pair}.json`)));
  }, 180_000);
});
