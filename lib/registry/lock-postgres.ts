import pg from "pg";
import { LOCK_KEYS } from "@/lib/db/keys";
import { DatabaseUnavailableError, LockTimeoutError } from "./errors";

/**
 * Runs `fn` holding the promotion lock as a PostgreSQL session advisory lock on a connection of its own.
 * Every replica and CLI of one database takes the same key, so their promotions run one at a time; the
 * server drops the lock when the holder's connection ends, so a killed replica never leaves it stale.
 * When the server cannot be reached it refuses before anything is written.
 */
export async function withPostgresLock<T>(url: string, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: Math.min(timeoutMs, 10_000) });
  // A connection lost while held surfaces in the audit writes under the lock (same server), which then refuse.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => {});
    throw unavailable(e);
  }
  try {
    await acquire(client, timeoutMs);
    try {
      return await fn();
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [LOCK_KEYS.promotion]).catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}

async function acquire(client: pg.Client, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let wait = 5;
  for (;;) {
    let got: boolean;
    try {
      const { rows } = await client.query<{ got: boolean }>("SELECT pg_try_advisory_lock($1) AS got", [LOCK_KEYS.promotion]);
      got = rows[0]?.got === true;
    } catch (e) {
      throw unavailable(e);
    }
    if (got) return;
    if (Date.now() >= deadline) {
      throw new LockTimeoutError(
        `Another promotion or rollback has held the registry lock for over ${Math.round(timeoutMs / 1000)} s. Try again when it finishes.`,
      );
    }
    // Waiting asynchronously keeps a server answering other requests meanwhile.
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 100);
  }
}

function unavailable(e: unknown): DatabaseUnavailableError {
  // The driver's message names the host and port at most, never the URL's password.
  const why = (e as { code?: string }).code ?? (e as Error).message;
  return new DatabaseUnavailableError(
    `The database that holds the promotion lock cannot be reached (${why}): nothing was written and production was left untouched. Try again when it is back.`,
    { cause: e },
  );
}
