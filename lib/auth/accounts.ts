import { createHash, randomBytes } from "node:crypto";
import { hash, verify } from "@node-rs/argon2";
import type { AuditDb } from "@/lib/audit/db";
import { recordEvent } from "@/lib/audit/log";
import { LOCK_KEYS, lockForTransaction } from "@/lib/db";
import { addressBucket } from "./client-address.mjs";
import { parseRoles, type Role, requireRoles } from "./roles";
import { type Charge, chargeAttempt, DAY, refundAttempt, type SignInPolicy, signInPolicy } from "./throttle";

export const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{1,39}$/;
export const MIN_PASSWORD = 10;

export interface SessionUser {
  id: number;
  username: string;
  roles: Role[];
}

export class AccountError extends Error {}

/**
 * First-run set-up: creates the first admin only while no account exists, and records it in the audit log,
 * both in one transaction. Of any number of parallel calls exactly one gets the user back; the others get
 * null and write nothing. Throws AccountError on a bad name or a weak password.
 */
export async function createFirstAdmin(
  db: AuditDb,
  input: { username: string; password: string; address: string },
): Promise<SessionUser | null> {
  checkNewAccount({ ...input, roles: ["admin"] });
  // Hashed before the transaction: it takes tens of milliseconds and must not hold the write lock.
  const passwordHash = await hash(input.password);
  const createdAt = new Date().toISOString();
  return db.$transaction(async (tx) => {
    // One statement that writes only into an empty table, and the transaction's first: it takes SQLite's
    // write lock, so no other writer (another request, the CLI) can add an account in between. PostgreSQL
    // takes the accounts' advisory lock first, as every account change does.
    await lockForTransaction(tx, LOCK_KEYS.accounts);
    const created = await tx.$executeRaw`
      INSERT INTO "User" ("username", "passwordHash", "roles", "createdAt", "createdBy")
      SELECT ${input.username}, ${passwordHash}, 'admin', ${createdAt}, ${FIRST_RUN}
      WHERE NOT EXISTS (SELECT 1 FROM "User")`;
    if (created !== 1) return null;
    const user = await tx.user.findUniqueOrThrow({ where: { username: input.username } });
    await recordEvent(
      tx,
      { name: user.username, role: "admin", source: "web" },
      {
        action: "user.created",
        outcome: "succeeded",
        reason: `Created the first admin, ${user.username}, through first-run set-up.`,
        details: { username: user.username, roles: ["admin"], via: FIRST_RUN, address: input.address },
      },
    );
    return { id: user.id, username: user.username, roles: ["admin"] as Role[] };
  });
}

const FIRST_RUN = "first-run set-up";

function checkNewAccount(input: { username: string; password: string; roles: string[] }): Role[] {
  if (!USERNAME.test(input.username)) throw new AccountError("Usernames are 2–40 letters, digits, '.', '_' or '-'.");
  if (input.password.length < MIN_PASSWORD) throw new AccountError(`Passwords need at least ${MIN_PASSWORD} characters.`);
  try {
    return requireRoles(input.roles);
  } catch (e) {
    throw new AccountError((e as Error).message);
  }
}

export type SignIn =
  | { ok: true; token: string; user: SessionUser; expiresAt: Date; browserToken: string }
  | { ok: false; error: string; retryAfterSeconds?: number };

export interface SignInInput {
  username: string;
  password: string;
  /** The client's address as the server resolved it (see lib/auth/client-address.mjs). */
  address: string;
  /** The browser's token from an earlier sign-in, if it sent one. */
  browserToken?: string;
  sessionTtlMs?: number;
}

/**
 * Checks a username and password and opens a session. Every attempt is counted before the password is
 * checked, against the account and the address, or, from a browser that has signed in to this account
 * before, against that browser alone (see throttle.ts); a key past its free failures must wait, and the
 * password is then not checked at all. A right password takes its own count back. Also sweeps expired
 * sessions and forgotten counters, a bounded batch per call. Returns the browser token to keep in a cookie.
 */
export async function signIn(db: AuditDb, input: SignInInput, policy: SignInPolicy = signInPolicy(), now = Date.now()): Promise<SignIn> {
  await sweepExpired(db, now, policy);
  const user = await db.user.findUnique({ where: { username: input.username } });
  const browser = user && input.browserToken ? await knownBrowser(db, input.browserToken, user.id) : null;
  const charges: Charge[] = browser
    ? [{ key: `browser:${browser}:${user?.id}`, backoff: policy.browser }]
    : [
        { key: `account:${input.username.toLowerCase()}`, backoff: policy.account },
        { key: `address:${addressBucket(input.address)}`, backoff: policy.address },
      ];
  const charged = await chargeAttempt(db, charges, now, policy.forgetMs);
  if (!charged.ok) {
    const where = charged.key.startsWith("address:") ? "from your address" : "for this account";
    return {
      ok: false,
      error: `Too many failed sign-ins ${where}. Try again in ${inWords(charged.waitMs)}.`,
      retryAfterSeconds: Math.ceil(charged.waitMs / 1000),
    };
  }
  // Verify against a fixed hash when the user does not exist, so timing does not reveal valid names.
  const ok = await verify(user?.passwordHash ?? DUMMY_HASH, input.password).catch(() => false);
  if (!user || !ok || user.disabled) return { ok: false, error: "Wrong username or password." };
  await refundAttempt(db, charges);
  const session = await openSession(db, user.id, input.address, input.sessionTtlMs ?? sessionTtlMs(), now);
  const browserToken = await rememberBrowser(db, user.id, input.browserToken, now);
  return { ok: true, ...session, browserToken, user: { id: user.id, username: user.username, roles: parseRoles(user.roles) } };
}

/** Opens a session for a user who has just proven who they are: a random token, of which only the hash is stored. */
export async function openSession(
  db: AuditDb,
  userId: number,
  address: string,
  ttlMs = sessionTtlMs(),
  now = Date.now(),
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString("base64url");
  const expiresAt = new Date(now + ttlMs);
  await db.session.create({
    data: { id: tokenId(token), userId, createdAt: new Date(now).toISOString(), expiresAt: expiresAt.toISOString(), address },
  });
  return { token, expiresAt };
}

/** How long a browser stays known to an account without signing in, and how many one account keeps. */
export const BROWSER_TTL_MS = 180 * DAY;
const BROWSERS_PER_USER = 20;

/** The stored hash of a browser token when that browser has signed in to this user before, else null. */
async function knownBrowser(db: AuditDb, token: string, userId: number): Promise<string | null> {
  if (token.length > 200) return null;
  const row = await db.knownBrowser.findUnique({ where: { tokenHash_userId: { tokenHash: tokenId(token), userId } } });
  return row ? row.tokenHash : null;
}

/**
 * Marks this browser as known to the user after a sign-in: keeps its token when the server issued it
 * (it is on record for some account), else issues a new one, so a token planted in a browser never becomes
 * known. Keeps the user's newest BROWSERS_PER_USER browsers.
 */
async function rememberBrowser(db: AuditDb, userId: number, token: string | undefined, now: number): Promise<string> {
  const issued = token && token.length <= 200 && (await db.knownBrowser.findFirst({ where: { tokenHash: tokenId(token) } }));
  const kept = issued && token ? token : randomBytes(32).toString("base64url");
  const at = new Date(now).toISOString();
  await db.knownBrowser.upsert({
    where: { tokenHash_userId: { tokenHash: tokenId(kept), userId } },
    create: { tokenHash: tokenId(kept), userId, createdAt: at, lastSeenAt: at },
    update: { lastSeenAt: at },
  });
  const older = await db.knownBrowser.findMany({
    where: { userId },
    orderBy: { lastSeenAt: "desc" },
    skip: BROWSERS_PER_USER,
    select: { tokenHash: true },
  });
  if (older.length > 0) await db.knownBrowser.deleteMany({ where: { userId, tokenHash: { in: older.map((b) => b.tokenHash) } } });
  return kept;
}

/**
 * Deletes expired sessions, sign-in counters idle past the policy's memory, and browsers unseen for
 * BROWSER_TTL_MS: at most `batch` rows of each per call, so a sign-in never pays for a long backlog; called
 * on every sign-in, which keeps up with any backlog that sign-ins themselves create.
 */
export async function sweepExpired(
  db: AuditDb,
  now = Date.now(),
  policy: SignInPolicy = signInPolicy(),
  batch = 100,
): Promise<{ sessions: number; counters: number; browsers: number }> {
  const [sessions, counters, browsers] = await Promise.all([
    db.session.deleteMany({ where: { expiresAt: { lte: new Date(now).toISOString() } }, limit: batch }),
    db.loginThrottle.deleteMany({ where: { lastAt: { lt: BigInt(now - policy.forgetMs) } }, limit: batch }),
    db.knownBrowser.deleteMany({ where: { lastSeenAt: { lt: new Date(now - BROWSER_TTL_MS).toISOString() } }, limit: batch }),
  ]);
  return { sessions: sessions.count, counters: counters.count, browsers: browsers.count };
}

function inWords(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 120) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

/**
 * The signed-in user for a session token, or null when it is unknown, expired, the account is disabled or
 * deleted, or it must change its password first. Roles are read from the account on every call.
 */
export async function userForToken(db: AuditDb, token: string | undefined): Promise<SessionUser | null> {
  if (!token || token.length > 200) return null;
  const session = await db.session.findUnique({ where: { id: tokenId(token) }, include: { user: true } });
  if (!session) return null;
  if (session.expiresAt <= new Date().toISOString() || session.user.disabled || session.user.deletedAt) {
    await db.session.delete({ where: { id: session.id } }).catch(() => undefined);
    return null;
  }
  // After an admin's password reset the session serves only /account/password (see lifecycle.ts).
  if (session.user.mustChangePassword) return null;
  return { id: session.user.id, username: session.user.username, roles: parseRoles(session.user.roles) };
}

/** Ends a session (sign-out). */
export async function endSession(db: AuditDb, token: string | undefined): Promise<void> {
  if (token) await db.session.deleteMany({ where: { id: tokenId(token) } });
}

/** Session lifetime: REGISTRY_SESSION_HOURS, default 8 hours (a working day), at most 30 days. */
export function sessionTtlMs(): number {
  const hours = Number(process.env.REGISTRY_SESSION_HOURS ?? 8);
  return Number.isFinite(hours) && hours > 0 ? Math.min(hours * 3_600_000, 30 * DAY) : 8 * 3_600_000;
}

/** The stored id of a session: the sha256 of its token, so the database alone cannot be replayed as cookies. */
export function tokenId(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

// A fixed argon2id hash with the same cost: its result is ignored (there is no user); it only spends the time.
const DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$1LXg0D8ByyIiSvF4BQpw9w$MKMzGT3EW6S9UmsA6E3qq8rCJThsm/zxeNzS59DmozQ";
