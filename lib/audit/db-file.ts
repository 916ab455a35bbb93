import { join, resolve } from "node:path";
import { STATE_DIR } from "@/lib/registry/lock";

// Apart from db.ts so that a command can ask whether a database exists without loading Prisma.

/** The audit database file: DATABASE_URL (file:PATH) when set, else <root>/.registry/audit.db. */
export function databaseFile(root: string): string {
  const url = process.env.DATABASE_URL;
  if (url) return resolve(/*turbopackIgnore: true*/ url.replace(/^file:/, ""));
  return join(root, STATE_DIR, "audit.db");
}
