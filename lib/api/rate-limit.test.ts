import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDbs, type DatabaseTarget, type Db, openDatabase } from "@/lib/db";
import { POSTGRES_OFF, throwawayDatabase } from "@/lib/db/test-support/postgres";
import { PrismaClient } from "@/lib/generated/prisma/client";
import { PrismaClient as PgPrismaClient } from "@/lib/generated/prisma-pg/client";
import { apiRateLimit, RateLimiter } from "./rate-limit";

// The per-token limit lives in the database, so replicas on one database spend one budget. Each case runs
// on SQLite and on PostgreSQL: two limiters on two clients of their own (as two replicas have), parallel
// takes, and separate processes firing at once.

const MIGRATIONS = resolve(__dirname, "../../prisma/migrations");
const MINUTE = 60_000;
// Inside a window, 5 s after it started.
const T = 29_000_000 * MINUTE + 5_000;
const dir = mkdtempSync(join(tmpdir(), "rate-limit-"));
// Inside the repo's node_modules, so the bundle's external packages resolve as the CLI's do.
const CACHE = resolve(__dirname, "../../node_modules/.cache");
mkdirSync(CACHE, { recursive: true });
const bundleDir = mkdtempSync(join(CACHE, "rate-taker-"));
const taker = join(bundleDir, "rate-taker.mjs");
const run = promisify(execFile);

beforeAll(async () => {
  process.env.REGISTRY_MIGRATIONS_DIR = MIGRATIONS;
  await build({
    entryPoints: [resolve(__dirname, "test-support/rate-taker.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: taker,
    alias: { "@": resolve(__dirname, "../..") },
    // As the CLI's build leaves them (scripts/build-cli.mjs): native and Prisma runtime packages.
    external: ["better-sqlite3", "@prisma/adapter-better-sqlite3", "pg", "@prisma/adapter-pg", "@prisma/client", "@prisma/client/*"],
    logLevel: "silent",
  });
});

afterAll(async () => {
  await closeDbs();
  rmSync(dir, { recursive: true, force: true });
  rmSync(bundleDir, { recursive: true, force: true });
});

/** A client of its own on `target`, as another replica (or the same one after a restart) would open. */
function anotherClient(target: DatabaseTarget): Db {
  if (target.provider === "sqlite") return new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: target.file, timeout: 10_000 }) });
  return new PgPrismaClient({ adapter: new PrismaPg({ connectionString: target.url, max: 10 }) }) as unknown as Db;
}

function urlOf(target: DatabaseTarget): string {
  return target.provider === "sqlite" ? `file:${target.file}` : target.url;
}

/** `processes` separate Node processes, each firing `each` takes for `key` at once; the allowed counts. */
async function takeInProcesses(target: DatabaseTarget, key: string, processes: number, each: number, limit: number): Promise<number[]> {
  const env = { ...process.env, REGISTRY_DATABASE_URL: urlOf(target) };
  const outs = await Promise.all(
    Array.from({ length: processes }, () => run(process.execPath, [taker, key, String(each), String(limit), String(T)], { env })),
  );
  return outs.map((o) => (JSON.parse(o.stdout) as { allowed: number }).allowed);
}

function contract(name: string, skip: boolean, open: () => Promise<{ target: DatabaseTarget; drop: () => Promise<void> }>) {
  describe.skipIf(skip)(`RateLimiter on ${name}`, () => {
    let target: DatabaseTarget;
    let drop: () => Promise<void>;
    let a: Db;
    let b: Db;
    beforeAll(async () => {
      ({ target, drop } = await open());
      a = openDatabase(target);
      await a.apiRateWindow.count(); // migrated before the second client opens
      b = anotherClient(target);
    });
    afterAll(async () => {
      await b.$disconnect();
      await closeDbs();
      await drop();
    });

    it("shares one budget between two limiters on two clients, says how long to wait, and counts keys apart", async () => {
      const one = new RateLimiter(a, 4);
      const two = new RateLimiter(b, 4);
      const seen = [];
      for (let i = 0; i < 6; i++) seen.push(await (i % 2 ? two : one).take("token:1", T + i));
      expect(seen.filter((t) => t.ok)).toHaveLength(4);
      expect(seen.slice(4)).toEqual([
        { ok: false, retryAfterMs: MINUTE - 5_000 - 4 },
        { ok: false, retryAfterMs: MINUTE - 5_000 - 5 },
      ]);
      expect(await one.take("token:2", T)).toEqual({ ok: true });
      // A limiter made later (a restarted server) sees the window as it is.
      expect(await new RateLimiter(a, 4).take("token:1", T + 10)).toMatchObject({ ok: false });
      // Refused requests are not counted: the next window starts afresh.
      expect(await two.take("token:1", T + MINUTE - 5_000)).toEqual({ ok: true });
    });

    it("never lets parallel takes from two clients past the limit", async () => {
      const one = new RateLimiter(a, 17);
      const two = new RateLimiter(b, 17);
      const taken = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? two : one).take("token:parallel", T)));
      expect(taken.filter((t) => t.ok)).toHaveLength(17);
      const [row] = await a.apiRateWindow.findMany({ where: { key: "token:parallel" } });
      expect(row?.count).toBe(17);
    });

    it("never lets three processes firing at once past the limit", async () => {
      const allowed = await takeInProcesses(target, "token:processes", 3, 25, 30);
      expect(allowed.reduce((x, y) => x + y, 0)).toBe(30);
      expect(await new RateLimiter(a, 30).take("token:processes", T)).toMatchObject({ ok: false });
    });

    it("deletes old windows when a new one starts, but not those of a replica whose clock lags a few minutes", async () => {
      const limiter = new RateLimiter(a, 5);
      await limiter.take("token:old", T - 6 * MINUTE);
      await limiter.take("token:lagging", T - 3 * MINUTE);
      await new RateLimiter(a, 5).take("token:now", T);
      const keys = (await a.apiRateWindow.findMany({ select: { key: true } })).map((r) => r.key);
      expect(keys).not.toContain("token:old");
      expect(keys).toEqual(expect.arrayContaining(["token:lagging", "token:now"]));
    });
  });
}

contract("SQLite", false, async () => {
  const file = join(mkdtempSync(join(dir, "sqlite-")), "audit.db");
  return { target: { provider: "sqlite", file }, drop: async () => {} };
});

contract("PostgreSQL", POSTGRES_OFF, async () => {
  const database = await throwawayDatabase();
  return { target: { provider: "postgresql", url: database.url }, drop: database.drop };
});

describe("apiRateLimit", () => {
  it("reads REGISTRY_API_RATE_LIMIT, falling back to 600 on nonsense", () => {
    expect(apiRateLimit({})).toBe(600);
    expect(apiRateLimit({ REGISTRY_API_RATE_LIMIT: "30" })).toBe(30);
    for (const bad of ["0", "-5", "1.5", "many"]) expect(apiRateLimit({ REGISTRY_API_RATE_LIMIT: bad })).toBe(600);
  });
});
