import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { databaseUrl, isPostgresUrl } from "@/lib/db/url";
import { LockTimeoutError, WriteFailedError } from "./errors";

export const STATE_DIR = ".registry";

// Loaded on first lock only: reads (`registry list`, dry runs) never pay for the native module.
async function sqlite(): Promise<typeof Database> {
  return (await import("better-sqlite3")).default;
}

export interface LockOptions {
  /** How long to wait for another writer before giving up. */
  timeoutMs?: number;
}

/**
 * Runs `fn` while holding the registry's write lock, then releases it: the promotion lock that every
 * promotion, rollback and repair, from any process or replica, holds for its whole check-copy-journal-
 * rename-record sequence. With a postgresql:// DATABASE_URL it is a PostgreSQL advisory lock
 * (lock-postgres.ts), which several machines over one shared folder can share; else the file lock below.
 */
export async function withRegistryLock<T>(root: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const url = databaseUrl();
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (url && isPostgresUrl(url)) return (await import("./lock-postgres")).withPostgresLock(url, fn, timeoutMs);
  return withFileLock(root, fn, timeoutMs);
}

/**
 * The embedded default: an exclusive SQLite transaction on `<root>/.registry/lock.db`: the kernel drops it when the
 * holder dies, so a killed process never leaves a stale lock, and SQLite serialises connections within
 * one process too (two requests in one server wait for each other).
 */
async function withFileLock<T>(root: string, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const dir = join(root, STATE_DIR);
  const Driver = await sqlite();
  let db: Database.Database;
  try {
    mkdirSync(dir, { recursive: true });
    db = new Driver(join(dir, "lock.db"), { timeout: 0 });
  } catch (e) {
    throw new WriteFailedError(
      `Cannot take the registry's write lock in ${dir} (${(e as { code?: string }).code ?? (e as Error).message}): the registry folder is read-only or full. Production was left untouched.`,
      { cause: e },
    );
  }
  try {
    await acquire(db, timeoutMs);
    try {
      return await fn();
    } finally {
      db.exec("ROLLBACK");
    }
  } finally {
    db.close();
  }
}

async function acquire(db: Database.Database, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let wait = 5;
  for (;;) {
    try {
      db.exec("BEGIN EXCLUSIVE");
      return;
    } catch (e) {
      const code = (e as { code?: string }).code ?? "";
      if (!code.startsWith("SQLITE_BUSY") && !code.startsWith("SQLITE_LOCKED")) throw e;
    }
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
