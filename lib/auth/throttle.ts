import type { AuditDb } from "@/lib/audit/db";
import { LOCK_KEYS, lockForTransaction, type Provider, providerOf } from "@/lib/db";

/**
 * Sign-in limits that slow guessing down rather than lock people out. Each key (an account, an address, a
 * browser known to an account) gets `free` failed attempts; after that each further attempt first waits
 * `firstWaitMs`, then twice as long after every failure, up to `maxWaitMs`. A key with no failure for
 * `forgetMs` starts over.
 */
export interface Backoff {
  free: number;
  firstWaitMs: number;
  maxWaitMs: number;
}

export interface SignInPolicy {
  account: Backoff;
  address: Backoff;
  browser: Backoff;
  forgetMs: number;
}

const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;

/**
 * The limits: 5 free failures per account and per known browser, 20 per address, then 1 s, 2 s, 4 s … up to
 * 15 minutes between attempts; forgotten after a day without failures. REGISTRY_SIGNIN_BACKOFF_SECONDS sets
 * the first wait (the e2e server makes it long, so its tests never race the clock). Pure over `env`.
 */
export function signInPolicy(env: Record<string, string | undefined> = process.env): SignInPolicy {
  const seconds = Number(env.REGISTRY_SIGNIN_BACKOFF_SECONDS ?? 1);
  const firstWaitMs = Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, DAY) : 1000;
  const maxWaitMs = Math.max(15 * MINUTE, firstWaitMs);
  return {
    account: { free: 5, firstWaitMs, maxWaitMs },
    address: { free: 20, firstWaitMs, maxWaitMs },
    browser: { free: 5, firstWaitMs, maxWaitMs },
    forgetMs: DAY,
  };
}

export interface Charge {
  key: string;
  backoff: Backoff;
}

export type Charged = { ok: true } | { ok: false; key: string; waitMs: number };

/**
 * Checks and counts one sign-in attempt against every key in ONE SQL statement, before the password is
 * checked: either no key is waiting, and each key counts one more failure (taken back by `refundAttempt`
 * when the password was right), or some key is waiting and nothing is counted. SQLite runs one statement at a
 * time, so parallel attempts cannot all read "under the limit" before any of them is counted.
 */
export async function chargeAttempt(db: AuditDb, charges: Charge[], now: number, forgetMs: number): Promise<Charged> {
  if (charges.length === 0) return { ok: true };
  const sql = new Sql(providerOf(db));
  // One row of the time: every placeholder below appears once, in the order its value is collected.
  const clock = `clock(now, forgotten) AS (VALUES (${sql.int(now)}, ${sql.int(now - forgetMs)}))`;
  const limits = limitsTable(sql, charges);
  const NOW = "(SELECT now FROM clock)";
  // The failures after this attempt: the stored count plus one, or one when the stored count is forgotten.
  const next = `CASE WHEN "LoginThrottle"."lastAt" >= (SELECT forgotten FROM clock) THEN "LoginThrottle"."failures" + 1 ELSE 1 END`;
  const text = `
    WITH ${clock}, ${limits}
    INSERT INTO "LoginThrottle" ("key", "failures", "lastAt", "until")
    SELECT l.key, 1, ${NOW}, ${untilAfter(sql, NOW, "1", "l")} FROM limits l
    WHERE NOT EXISTS (SELECT 1 FROM "LoginThrottle" t JOIN limits w ON w.key = t."key" WHERE t."until" > ${NOW})
    ON CONFLICT("key") DO UPDATE SET
      "failures" = ${next},
      "until" = (SELECT ${untilAfter(sql, NOW, next, "l")} FROM limits l WHERE l.key = "LoginThrottle"."key"),
      "lastAt" = ${NOW}
    RETURNING "key"`;
  // SQLite runs one statement at a time; PostgreSQL's replicas take turns on a lock held for the statement.
  const counted =
    providerOf(db) === "sqlite"
      ? await db.$queryRawUnsafe<{ key: string }[]>(text, ...sql.values)
      : await db.$transaction(
          async (tx) => {
            await lockForTransaction(tx, LOCK_KEYS.throttle);
            return tx.$queryRawUnsafe<{ key: string }[]>(text, ...sql.values);
          },
          { maxWait: 15_000, timeout: 20_000 },
        );
  if (counted.length === charges.length) return { ok: true };
  // Refused: say which key waits longest and for how long (read after the fact; only for the message).
  const [longest] = await db.loginThrottle.findMany({
    where: { key: { in: charges.map((c) => c.key) }, until: { gt: BigInt(now) } },
    orderBy: { until: "desc" },
    take: 1,
  });
  return {
    ok: false,
    key: longest?.key ?? (charges[0] as Charge).key,
    waitMs: longest ? Math.max(Number(longest.until) - now, 1000) : 1000,
  };
}

/**
 * Takes back the failure `chargeAttempt` counted for each key, because the password was right: the count
 * drops by one and the wait is what the remaining failures call for. Other failures stay counted, so
 * signing in between guesses does not wipe them.
 */
export async function refundAttempt(db: AuditDb, charges: Charge[]): Promise<void> {
  if (charges.length === 0) return;
  const sql = new Sql(providerOf(db));
  const fewer = `${sql.greatest}("LoginThrottle"."failures" - 1, 0)`;
  const text = `
    WITH ${limitsTable(sql, charges)}
    UPDATE "LoginThrottle" SET
      "failures" = ${fewer},
      "until" = (SELECT ${untilAfter(sql, `"LoginThrottle"."lastAt"`, fewer, "l")} FROM limits l WHERE l.key = "LoginThrottle"."key")
    WHERE "key" IN (SELECT key FROM limits)`;
  await db.$executeRawUnsafe(text, ...sql.values);
}

/**
 * Until when a key waits after `n` failures counted at `from`, as SQL over a `limits` row `b`: not at all (0)
 * below free, else firstWait × 2^(n − free) after `from`, at most maxWait. "Not at all" is 0 rather than
 * `from` itself, because an attempt whose clock was read a moment earlier would see `from` as the future.
 */
function untilAfter(sql: Sql, from: string, n: string, b: string): string {
  const doublings = `CAST(${sql.least}(${n} - ${b}.free, 40) AS INTEGER)`;
  return `CASE WHEN ${n} >= ${b}.free THEN ${from} + ${sql.least}(${b}.firstWait * (CAST(1 AS BIGINT) << ${doublings}), ${b}.maxWait) ELSE 0 END`;
}

/** A `limits(key, free, firstWait, maxWait)` table of the charges. */
function limitsTable(sql: Sql, charges: Charge[]): string {
  const rows = charges.map(
    (c) => `(${sql.text(c.key)}, ${sql.int(c.backoff.free)}, ${sql.int(c.backoff.firstWaitMs)}, ${sql.int(c.backoff.maxWaitMs)})`,
  );
  return `limits(key, free, firstWait, maxWait) AS (VALUES ${rows.join(", ")})`;
}

/**
 * Collects a statement's values in the order of its placeholders: "?" for SQLite (better-sqlite3 has no
 * numbered ones), "$n" with a type for PostgreSQL (which cannot infer one inside VALUES). Also names the
 * two-argument min and max, which the dialects spell differently.
 */
class Sql {
  readonly values: (string | number)[] = [];
  readonly least: string;
  readonly greatest: string;
  constructor(private readonly provider: Provider) {
    this.least = provider === "postgresql" ? "LEAST" : "min";
    this.greatest = provider === "postgresql" ? "GREATEST" : "max";
  }
  text(v: string): string {
    return this.value(v, "TEXT");
  }
  int(v: number): string {
    return this.value(v, "BIGINT");
  }
  private value(v: string | number, type: string): string {
    this.values.push(v);
    return this.provider === "postgresql" ? `CAST($${this.values.length} AS ${type})` : "?";
  }
}
