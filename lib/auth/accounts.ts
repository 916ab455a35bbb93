import { createHash, randomBytes } from "node:crypto";
import { hash, verify } from "@node-rs/argon2";
import type { AuditDb } from "@/lib/audit/db";
import { parseRoles, type Role, requireRoles } from "./roles";

export const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{1,39}$/;
export const MIN_PASSWORD = 10;
const DAY = 24 * 60 * 60 * 1000;

export interface SessionUser {
  id: number;
  username: string;
  roles: Role[];
}

export class AccountError extends Error {}

/** Creates an account with an argon2id password hash. Throws AccountError on a taken name or weak input. */
export async function createUser(
  db: AuditDb,
  input: { username: string; password: string; roles: string[]; createdBy: string },
): Promise<SessionUser> {
  if (!USERNAME.test(input.username)) throw new AccountError("Usernames are 2–40 letters, digits, '.', '_' or '-'.");
  if (input.password.length < MIN_PASSWORD) throw new AccountError(`Passwords need at least ${MIN_PASSWORD} characters.`);
  let roles: Role[];
  try {
    roles = requireRoles(input.roles);
  } catch (e) {
    throw new AccountError((e as Error).message);
  }
  if (await db.user.findUnique({ where: { username: input.username } }))
    throw new AccountError(`The username "${input.username}" is taken.`);
  const user = await db.user.create({
    data: {
      username: input.username,
      passwordHash: await hash(input.password),
      roles: roles.join(","),
      createdAt: new Date().toISOString(),
      createdBy: input.createdBy,
    },
  });
  return { id: user.id, username: user.username, roles };
}

export async function countUsers(db: AuditDb): Promise<number> {
  return db.user.count();
}

export async function listUsers(db: AuditDb) {
  const users = await db.user.findMany({ orderBy: { username: "asc" } });
  return users.map((u) => ({
    id: u.id,
    username: u.username,
    roles: parseRoles(u.roles),
    createdAt: u.createdAt,
    createdBy: u.createdBy,
    disabled: u.disabled,
  }));
}

export async function setRoles(db: AuditDb, username: string, roles: string[]): Promise<void> {
  const valid = requireRoles(roles);
  await db.user.update({ where: { username }, data: { roles: valid.join(",") } });
}

export interface RateLimits {
  perAccount: number;
  perAddress: number;
  windowMs: number;
}
export const DEFAULT_LIMITS: RateLimits = { perAccount: 5, perAddress: 20, windowMs: 15 * 60 * 1000 };

export type SignIn =
  | { ok: true; token: string; user: SessionUser; expiresAt: Date }
  | { ok: false; error: string; retryAfterSeconds?: number };

/**
 * Checks a username and password and opens a session. Failed attempts are counted per account and per
 * address; past the limit, sign-in is refused without checking the password until the window passes.
 */
export async function signIn(
  db: AuditDb,
  input: { username: string; password: string; address: string; sessionTtlMs?: number },
  limits: RateLimits = DEFAULT_LIMITS,
): Promise<SignIn> {
  const since = new Date(Date.now() - limits.windowMs).toISOString();
  const keys = [`user:${input.username.toLowerCase()}`, `addr:${input.address}`];
  const [byAccount, byAddress] = await Promise.all(keys.map((key) => db.loginFailure.count({ where: { key, at: { gte: since } } })));
  if ((byAccount ?? 0) >= limits.perAccount || (byAddress ?? 0) >= limits.perAddress) {
    return {
      ok: false,
      error: "Too many failed sign-ins. Wait a few minutes and try again.",
      retryAfterSeconds: Math.ceil(limits.windowMs / 1000),
    };
  }
  const user = await db.user.findUnique({ where: { username: input.username } });
  // Verify against a fixed hash when the user does not exist, so timing does not reveal valid names.
  const ok = await verify(user?.passwordHash ?? DUMMY_HASH, input.password).catch(() => false);
  if (!user || !ok || user.disabled) {
    const at = new Date().toISOString();
    await db.loginFailure.createMany({ data: keys.map((key) => ({ key, at })) });
    return { ok: false, error: "Wrong username or password." };
  }
  const token = randomBytes(32).toString("base64url");
  const expiresAt = new Date(Date.now() + (input.sessionTtlMs ?? sessionTtlMs()));
  await db.session.create({
    data: {
      id: tokenId(token),
      userId: user.id,
      createdAt: new Date().toISOString(),
      expiresAt: expiresAt.toISOString(),
      address: input.address,
    },
  });
  return { ok: true, token, expiresAt, user: { id: user.id, username: user.username, roles: parseRoles(user.roles) } };
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
