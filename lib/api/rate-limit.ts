import type { Db } from "@/lib/db";

// Requests per token per minute, counted in the database: a fixed window per key, one row per key and
// window (ApiRateWindow). Every replica on one database (and a restarted server) spends the same budget,
// because the check and the count are one statement: an upsert that adds one only while the window holds
// fewer than `limit`, and returns nothing once it is full. SQLite runs one statement at a time; PostgreSQL
// holds the row's lock for the conflicting update and re-checks the condition on the newest row.

export type Taken = { ok: true } | { ok: false; retryAfterMs: number };

/** The start of the fixed window of `windowMs` that holds `now`. Pure. */
export function windowStart(now: number, windowMs: number): number {
  return Math.floor(now / windowMs) * windowMs;
}

/** Windows kept before pruning: room for replicas' clocks to disagree by minutes without resetting a budget. */
const PRUNE_AFTER_WINDOWS = 5;

export class RateLimiter {
  // The window this instance last pruned before: old windows are deleted once a window, not per request.
  private prunedBefore = 0;

  constructor(
    readonly db: Db,
    readonly limit: number,
    readonly windowMs = 60_000,
  ) {}

  /**
   * Counts one request for `key` at `now` in the database; refused (and not counted) once the window holds
   * `limit`, with the time until the window ends. Starting a window this instance has not seen deletes
   * windows PRUNE_AFTER_WINDOWS old: a replica whose clock runs a little ahead must not delete the window the
   * others are still counting in.
   */
  async take(key: string, now: number): Promise<Taken> {
    const start = windowStart(now, this.windowMs);
    if (start > this.prunedBefore) {
      this.prunedBefore = start;
      await this.db.$executeRaw`DELETE FROM "ApiRateWindow" WHERE "windowStart" < ${BigInt(start - PRUNE_AFTER_WINDOWS * this.windowMs)}`;
    }
    const counted = await this.db.$queryRaw<{ count: number | bigint }[]>`
      INSERT INTO "ApiRateWindow" ("key", "windowStart", "count") VALUES (${key}, ${BigInt(start)}, 1)
      ON CONFLICT ("key", "windowStart") DO UPDATE SET "count" = "ApiRateWindow"."count" + 1
      WHERE "ApiRateWindow"."count" < ${this.limit}
      RETURNING "count"`;
    if (counted.length > 0) return { ok: true };
    return { ok: false, retryAfterMs: start + this.windowMs - now };
  }
}

/** Requests a token may make per minute: REGISTRY_API_RATE_LIMIT, else 600. Pure over `env`. */
export function apiRateLimit(env: Record<string, string | undefined> = process.env): number {
  const n = Number(env.REGISTRY_API_RATE_LIMIT ?? 600);
  return Number.isInteger(n) && n > 0 ? n : 600;
}
