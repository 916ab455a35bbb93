import type { AuditDb } from "@/lib/audit/db";

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
  const sql = new Sql();
  // One row of the time: every "?" below appears once, in the order its value is collected.
  const clock = `clock(now, forgotten) AS (VALUES (${sql.value(now)}, ${sql.value(now - forgetMs)}))`;
  const limits = limitsTable(sql, charges);
  const NOW = "(SELECT now FROM clock)";
  // The failures after this attempt: the stored count plus one, or one when the stored count is forgotten.
  const next = `CASE WHEN "LoginThrottle"."lastAt" >= (SELECT forgotten FROM clock) THEN "LoginThrottle"."failures" + 1 ELSE 1 END`;
  const text = `
    WITH ${clock}, ${limits}
    INSERT INTO "LoginThrottle" (key, failures, lastAt, until)
    SELECT l.key, 1, ${NOW}, ${NOW} + ${waitAfter("1", "l")} FROM limits l
    WHERE NOT EXISTS (SELECT 1 FROM "LoginThrottle" t JOIN limits w ON w.key = t.key WHERE t.until > ${NOW})
    ON CONFLICT(key) DO UPDATE SET
      failures = ${next},
      until = ${NOW} + (SELECT ${waitAfter(next, "l")} FROM limits l WHERE l.key = "LoginThrottle".key),
      lastAt = ${NOW}
    RETURNING key`;
  const counted = await db.$queryRawUnsafe<{ key: string }[]>(text, ...sql.values);
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
  const sql = new Sql();
  const fewer = `max("LoginThrottle"."failures" - 1, 0)`;
  const text = `
    WITH ${limitsTable(sql, charges)}
    UPDATE "LoginThrottle" SET
      failures = ${fewer},
      until = "LoginThrottle"."lastAt" + (SELECT ${waitAfter(fewer, "l")} FROM limits l WHERE l.key = "LoginThrottle".key)
    WHERE key IN (SELECT key FROM limits)`;
  await db.$executeRawUnsafe(text, ...sql.values);
}

/** The wait after `n` failures, as SQL over a `limits` row `b`: none below free, else firstWait × 2^(n − free), at most maxWait. */
function waitAfter(n: string, b: string): string {
  return `CASE WHEN ${n} >= ${b}.free THEN min(${b}.firstWait * (1 << min(${n} - ${b}.free, 40)), ${b}.maxWait) ELSE 0 END`;
}

/** A `limits(key, free, firstWait, maxWait)` table of the charges. */
function limitsTable(sql: Sql, charges: Charge[]): string {
  const rows = charges.map(
    (c) => `(${sql.value(c.key)}, ${sql.value(c.backoff.free)}, ${sql.value(c.backoff.firstWaitMs)}, ${sql.value(c.backoff.maxWaitMs)})`,
  );
  return `limits(key, free, firstWait, maxWait) AS (VALUES ${rows.join(", ")})`;
}

/** Collects a statement's values in the order of its "?" placeholders (better-sqlite3 has no numbered ones). */
class Sql {
  readonly values: (string | number)[] = [];
  value(v: string | number): string {
    this.values.push(v);
    return "?";
  }
}
