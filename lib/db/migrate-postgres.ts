import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pg from "pg";
import { MigrationError } from "@/lib/audit/migrate";
import { LOCK_KEYS } from "./keys";

/** Where PostgreSQL's migration folders are: beside SQLite's, under prisma/postgresql/migrations. */
export function postgresMigrationsDir(): string {
  const sqlite = process.env.REGISTRY_MIGRATIONS_DIR ?? resolve(/*turbopackIgnore: true*/ process.cwd(), "prisma", "migrations");
  return process.env.REGISTRY_PG_MIGRATIONS_DIR ?? join(sqlite, "..", "postgresql", "migrations");
}

const PRISMA_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/**
 * Applies every pending PostgreSQL migration under `dir`, each in its own transaction, recorded in Prisma's
 * `_prisma_migrations` table as `prisma migrate deploy` would. Refuses an applied migration whose file has
 * changed. Replicas starting together take turns on an advisory lock, so each migration runs once.
 */
export async function migratePostgres(url: string, dir = postgresMigrationsDir()): Promise<{ applied: string[] }> {
  if (!existsSync(dir)) throw new MigrationError(`No PostgreSQL migrations folder at ${dir}.`);
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort();
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {}); // a dropped connection surfaces as the next query's error
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [LOCK_KEYS.migrate]);
    await client.query(PRISMA_TABLE);
    const { rows } = await client.query<{ migration_name: string; checksum: string }>(
      `SELECT migration_name, checksum FROM "_prisma_migrations" WHERE rolled_back_at IS NULL AND finished_at IS NOT NULL`,
    );
    const done = new Map(rows.map((r) => [r.migration_name, r.checksum]));
    const applied: string[] = [];
    for (const name of names) {
      const sql = readFileSync(join(dir, name, "migration.sql"), "utf8");
      const checksum = createHash("sha256").update(sql).digest("hex");
      const seen = done.get(name);
      if (seen !== undefined) {
        if (seen !== checksum)
          throw new MigrationError(`Migration ${name} was changed after it was applied: restore it and add a new migration instead.`);
        continue;
      }
      await client.query("BEGIN");
      try {
        const id = randomUUID();
        await client.query(`INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ($1, $2, $3)`, [id, checksum, name]);
        await client.query(sql);
        await client.query(`UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`, [id]);
        await client.query("COMMIT");
      } catch (e) {
        await client.query("ROLLBACK");
        throw new MigrationError(`PostgreSQL migration ${name} failed: ${(e as Error).message}`, { cause: e });
      }
      applied.push(name);
    }
    return { applied };
  } finally {
    await client.end().catch(() => {});
  }
}
