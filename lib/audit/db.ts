import { closeDbs, type Db, databaseTarget, openDb } from "@/lib/db";

export type AuditDb = Db;

/** The SQLite audit file: DATABASE_URL (file:PATH) when set, else <root>/.registry/audit.db; null on PostgreSQL. */
export function databaseFile(root: string): string {
  const target = databaseTarget(root);
  if (target.provider !== "sqlite") throw new Error("The registry's database is PostgreSQL: it has no file.");
  return target.file;
}

/**
 * Opens the audit log (and every other table) for a registry, creating and migrating the database on
 * first use, so no set-up step is needed before the first promotion. SQLite by default, PostgreSQL when
 * DATABASE_URL (or REGISTRY_DATABASE_URL) is a postgresql:// URL (lib/db). Memoised per database.
 */
export function openAudit(root: string): AuditDb {
  return openDb(root);
}

/** Closes every client this process opened (tests and the CLI call this before exiting). */
export async function closeAudit(): Promise<void> {
  await closeDbs();
}
