import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "@/lib/generated/prisma/client";
import { databaseFile } from "./db-file";
import { migrateDatabase } from "./migrate";

export type AuditDb = PrismaClient;

export { databaseFile } from "./db-file";

// One client per database file per process; survives Next's module reloads in development.
const g = globalThis as unknown as { __auditClients?: Map<string, PrismaClient> };
g.__auditClients ??= new Map();
const clients = g.__auditClients;

/**
 * Opens the audit log for a registry, creating and migrating the SQLite file on first use, so no set-up
 * step is needed before the first promotion. Memoised per file.
 */
export function openAudit(root: string): AuditDb {
  const file = databaseFile(root);
  let client = clients.get(file);
  if (!client) {
    mkdirSync(dirname(file), { recursive: true });
    migrateDatabase(file);
    client = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file, timeout: 10_000 }) });
    clients.set(file, client);
  }
  return client;
}

/** Closes every client this process opened (tests and the CLI call this before exiting). */
export async function closeAudit(): Promise<void> {
  await Promise.all([...clients.values()].map((c) => c.$disconnect()));
  clients.clear();
}
