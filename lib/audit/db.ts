import { closeDbs, type Db, openDb } from "@/lib/db";

export type AuditDb = Db;

export { databaseExists, databaseFile } from "./db-file";

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
