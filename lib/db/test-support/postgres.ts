import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * PostgreSQL for tests: a throwaway database per test file on the server at REGISTRY_TEST_POSTGRES_URL
 * (default: this project's machines, 127.0.0.1:5432, trust auth). Tests that need it run unless
 * REGISTRY_TEST_POSTGRES=0 turns them off explicitly; a server that is down fails them, never skips them.
 */
export const POSTGRES_OFF = process.env.REGISTRY_TEST_POSTGRES === "0";
export const ADMIN_URL = process.env.REGISTRY_TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** A database URL on the same server as `adminUrl`, with another database name. */
export function urlFor(name: string, adminUrl = ADMIN_URL): string {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl });
  c.on("error", () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

/** Creates an empty database with a random name; returns its URL and a function that drops it. */
export async function throwawayDatabase(adminUrl = ADMIN_URL): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  // scripts/test.sh names its run's databases with one prefix and drops them all when the run ends.
  const name = `${process.env.REGISTRY_TEST_POSTGRES_PREFIX ?? "registry_test_"}${randomBytes(6).toString("hex")}`;
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  return {
    url: urlFor(name, adminUrl),
    name,
    drop: () => admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/** Runs one statement on a database directly (the "someone edits the table by hand" of a test). */
export async function sqlOn(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  return admin(url, (c) => c.query(text, values));
}
