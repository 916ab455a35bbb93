import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";

export class MigrationError extends Error {}

/** Where the migration folders are: $REGISTRY_MIGRATIONS_DIR (set by the CLI's entry point), else ./prisma/migrations. */
export function migrationsDir(): string {
  return process.env.REGISTRY_MIGRATIONS_DIR ?? resolve(/*turbopackIgnore: true*/ process.cwd(), "prisma", "migrations");
}

const PRISMA_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

/**
 * Creates the SQLite file if needed and applies every pending migration under `dir`, each in its own
 * transaction, recording it in Prisma's `_prisma_migrations` table (checksum = sha256 of migration.sql)
 * so `prisma migrate deploy` sees it as applied. Refuses an applied migration whose file has changed.
 * Safe to run from several processes at once (the first to take the write lock does the work).
 */
export function migrateDatabase(file: string, dir = migrationsDir()): { applied: string[] } {
  if (!existsSync(dir)) throw new MigrationError(`No migrations folder at ${dir}.`);
  const db = new Database(file, { timeout: 10_000 });
  try {
    db.pragma("journal_mode = WAL");
    db.exec(PRISMA_TABLE);
    const names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, "migration.sql")))
      .map((d) => d.name)
      .sort();
    const applied: string[] = [];
    const run = db.transaction(() => {
      const done = new Map(
        (
          db
            .prepare(`SELECT migration_name, checksum FROM "_prisma_migrations" WHERE rolled_back_at IS NULL AND finished_at IS NOT NULL`)
            .all() as {
            migration_name: string;
            checksum: string;
          }[]
        ).map((r) => [r.migration_name, r.checksum]),
      );
      for (const name of names) {
        const sql = readFileSync(join(dir, name, "migration.sql"), "utf8");
        const checksum = createHash("sha256").update(sql).digest("hex");
        const seen = done.get(name);
        if (seen !== undefined) {
          if (seen !== checksum) {
            throw new MigrationError(`Migration ${name} was changed after it was applied: restore it and add a new migration instead.`);
          }
          continue;
        }
        const id = randomUUID();
        db.prepare(`INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES (?, ?, ?, ?)`).run(
          id,
          checksum,
          name,
          Date.now(),
        );
        db.exec(sql);
        db.prepare(`UPDATE "_prisma_migrations" SET finished_at = ?, applied_steps_count = 1 WHERE id = ?`).run(Date.now(), id);
        applied.push(name);
      }
    });
    run.immediate();
    return { applied };
  } finally {
    db.close();
  }
}
