import { existsSync } from "node:fs";
import { databaseTarget } from "@/lib/db/url";

// Apart from db.ts so that a command can ask whether a database exists without loading Prisma.

/** The SQLite audit file: DATABASE_URL (file:PATH) when set, else <root>/.registry/audit.db; throws on PostgreSQL. */
export function databaseFile(root: string): string {
  const target = databaseTarget(root);
  if (target.provider !== "sqlite") throw new Error("The registry's database is PostgreSQL: it has no file.");
  return target.file;
}

/**
 * Whether the registry already has a database: the SQLite file exists, or the database is a PostgreSQL server
 * (which exists by configuration; its tables are made on first use). Lets read-only commands answer "empty"
 * without creating a SQLite file.
 */
export function databaseExists(root: string): boolean {
  const target = databaseTarget(root);
  return target.provider === "postgresql" || existsSync(target.file);
}
