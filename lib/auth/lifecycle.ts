import { randomBytes } from "node:crypto";
import { hash, verify } from "@node-rs/argon2";
import type { AuditDb } from "@/lib/audit/db";
import { type Actor, recordEvent } from "@/lib/audit/log";
import { LOCK_KEYS, lockForTransaction } from "@/lib/db";
import type { Prisma, User } from "@/lib/generated/prisma/client";
import { RegistryError } from "@/lib/registry/errors";
import { AccountError, MIN_PASSWORD, tokenId, USERNAME } from "./accounts";
import { parseRoles, type Role, requireRoles } from "./roles";
import { type Charge, chargeAttempt, refundAttempt, signInPolicy } from "./throttle";

/*
 * The life cycle of an account, shared by /admin/users, /account/password and `registry users`: create,
 * disable and enable, delete, reset a password, change roles, and the person's own password change.
 * Each change, its sessions ending and its audit event are one SQLite transaction, so no door can change an
 * account without the log saying so, and no two changes can interleave into a state neither allowed
 * (two admins demoting each other at once must leave one admin).
 *
 * Deleting keeps a tombstone: the row stays with no roles, no usable password and `deletedAt` set, so the
 * name stays reserved. Audit events name people by username; a new account that silently took a deleted
 * one's name would make the history say that one person did what two did (and the two-person rule could
 * not tell them apart). Someone who returns gets a new name, or is re-enabled if only disabled.
 */

export type Tx = Prisma.TransactionClient;

export interface Account {
  id: number;
  username: string;
  roles: Role[];
  createdAt: string;
  createdBy: string;
  disabled: boolean;
  deleted: boolean;
  deletedAt: string | null;
  mustChangePassword: boolean;
  passwordChangedAt: string | null;
}

/** A form field an account error belongs to, so a form can show the message beside it. */
export type AccountField = "username" | "password" | "role" | "currentPassword" | "newPassword" | "confirm";

export class AccountFieldError extends AccountError {
  constructor(
    message: string,
    readonly field: AccountField,
  ) {
    super(message);
  }
}

/** No account by that name: bad input, like an unknown version (CLI exit 2). */
export class UnknownAccountError extends RegistryError {
  override readonly code = "unknown_account";
  override readonly exitCode = 2;
  constructor(readonly username: string) {
    super(`No account named "${username}". Run \`registry users list\` to see the accounts.`);
  }
}

/** The change would leave no active admin, so nobody could manage accounts any more (CLI exit 3). */
export class LastAdminError extends RegistryError {
  override readonly code = "last_admin";
  override readonly exitCode = 3;
}

/** The account was deleted: it is kept only as a tombstone reserving its name (CLI exit 3). */
export class DeletedAccountError extends RegistryError {
  override readonly code = "account_deleted";
  override readonly exitCode = 3;
}

/** What a change did; `changed: false` when the account already was as asked (nothing written, no event). */
export interface Change {
  username: string;
  changed: boolean;
  sessionsEnded: number;
}

type Refusal = { refused: LastAdminError | DeletedAccountError | UnknownAccountError; change: string };

const ADMIN_LIKE = "%,admin,%";

function toAccount(u: User): Account {
  return {
    id: u.id,
    username: u.username,
    roles: parseRoles(u.roles),
    createdAt: u.createdAt,
    createdBy: u.createdBy,
    disabled: u.disabled,
    deleted: u.deletedAt !== null,
    deletedAt: u.deletedAt,
    mustChangePassword: u.mustChangePassword,
    passwordChangedAt: u.passwordChangedAt,
  };
}

/** Every account, deleted ones (tombstones) included, by name. Reads only. */
export async function listAccounts(db: AuditDb): Promise<Account[]> {
  return (await db.user.findMany({ orderBy: { username: "asc" } })).map(toAccount);
}

/** One account by name, or null. Reads only. */
export async function findAccount(db: AuditDb, username: string): Promise<Account | null> {
  const u = await db.user.findUnique({ where: { username } });
  return u ? toAccount(u) : null;
}

/**
 * Runs `fn` in one transaction that holds SQLite's write lock from its first statement (BEGIN IMMEDIATE,
 * which the adapter does not offer): the checks inside then see what every other writer, in this process
 * or another (the CLI), will see when it commits. The adapter runs all of this process's queries on one
 * connection, so a statement of another request may land inside this transaction: `fn` must never throw
 * to refuse (a rollback would take that statement with it). It returns the refusal instead.
 */
async function writeTransaction<T>(db: AuditDb, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.$transaction(
    async (tx) => {
      // SQLite: a write as the first statement takes the database's write lock. PostgreSQL: an advisory lock
      // that every account change of every replica takes first.
      await tx.$executeRawUnsafe(`UPDATE "User" SET "id" = "id" WHERE 1 = 0`);
      await lockForTransaction(tx, LOCK_KEYS.accounts);
      return fn(tx);
    },
    { maxWait: 15_000, timeout: 20_000 },
  );
}

/** Active admins other than `exceptId`: not disabled, not deleted. */
async function otherAdmins(tx: Tx, exceptId: number): Promise<number> {
  const rows = await tx.$queryRaw<{ n: bigint | number }[]>`
    SELECT COUNT(*) AS n FROM "User"
    WHERE "id" <> ${exceptId} AND "deletedAt" IS NULL AND "disabled" = false AND (',' || "roles" || ',') LIKE ${ADMIN_LIKE}`;
  return Number(rows[0]?.n ?? 0);
}

const isActiveAdmin = (u: User) => !u.disabled && u.deletedAt === null && parseRoles(u.roles).includes("admin");

/** The live account to change, or the refusal for an unknown or deleted one. */
async function live(tx: Tx, username: string, change: string): Promise<{ user: User } | Refusal> {
  const user = await tx.user.findUnique({ where: { username } });
  if (!user) return { refused: new UnknownAccountError(username), change };
  if (user.deletedAt) {
    return {
      refused: new DeletedAccountError(`${username} was deleted on ${user.deletedAt.slice(0, 10)}: only its name is kept.`),
      change,
    };
  }
  return { user };
}

/** The refusal when taking admin away from `user` would leave no active admin. */
async function lastAdmin(tx: Tx, user: User, change: string, losesAdmin: boolean): Promise<Refusal | null> {
  if (!losesAdmin || !isActiveAdmin(user) || (await otherAdmins(tx, user.id)) > 0) return null;
  return {
    refused: new LastAdminError(
      `${user.username} is the last admin: make another account admin first, or nobody could manage accounts any more.`,
    ),
    change,
  };
}

/** Records a refused change (after its transaction) and throws it: refusals are evidence an auditor needs (admins only, so no flood). */
async function refuse(db: AuditDb, actor: Actor, username: string, r: Refusal): Promise<never> {
  await recordEvent(db, actor, {
    action: "user.change_refused",
    outcome: "refused",
    reason: r.refused.message,
    details: { username, change: r.change, code: r.refused.code },
  });
  throw r.refused;
}

async function endSessions(tx: Tx, userId: number, keepSessionId?: string): Promise<number> {
  const where = keepSessionId ? { userId, id: { not: keepSessionId } } : { userId };
  return (await tx.session.deleteMany({ where })).count;
}

/** A password for someone to type once: 16 URL-safe characters (96 bits). */
export function generatePassword(): string {
  return randomBytes(12).toString("base64url");
}

function checkPassword(password: string, field: AccountField): void {
  if (password.length < MIN_PASSWORD) throw new AccountFieldError(`Passwords need at least ${MIN_PASSWORD} characters.`, field);
  if (password.length > 1000) throw new AccountFieldError("Passwords are at most 1000 characters.", field);
}

/**
 * Creates an account (argon2id hash) and records `user.created`, in one transaction. Throws
 * AccountFieldError naming the field for a bad or taken name (a deleted account's name stays reserved),
 * a short password or no valid role.
 */
export async function createAccount(
  db: AuditDb,
  actor: Actor,
  input: { username: string; password: string; roles: readonly string[] },
): Promise<Account> {
  if (!USERNAME.test(input.username)) {
    throw new AccountFieldError("Usernames are 2–40 letters, digits, '.', '_' or '-', starting with a letter or digit.", "username");
  }
  checkPassword(input.password, "password");
  let roles: Role[];
  try {
    roles = requireRoles(input.roles);
  } catch (e) {
    throw new AccountFieldError((e as Error).message, "role");
  }
  const passwordHash = await hash(input.password);
  const created = await writeTransaction(db, async (tx): Promise<{ taken: User } | { user: User }> => {
    const existing = await tx.user.findUnique({ where: { username: input.username } });
    if (existing) return { taken: existing };
    const user = await tx.user.create({
      data: {
        username: input.username,
        passwordHash,
        roles: roles.join(","),
        createdAt: new Date().toISOString(),
        createdBy: actor.name,
      },
    });
    await recordEvent(tx, actor, {
      action: "user.created",
      outcome: "succeeded",
      reason: `Created ${user.username} with ${roles.join(", ")}.`,
      details: { username: user.username, roles },
    });
    return { user };
  });
  if ("taken" in created) {
    const t = created.taken;
    const message = t.deletedAt
      ? `"${t.username}" belonged to an account deleted on ${t.deletedAt.slice(0, 10)}; the names of deleted accounts stay reserved so that past events name one person. Choose another name.`
      : `The username "${t.username}" is taken.`;
    await recordEvent(db, actor, {
      action: "user.change_refused",
      outcome: "refused",
      reason: message,
      details: { username: t.username, change: "create", code: t.deletedAt ? "name_reserved" : "name_taken" },
    });
    throw new AccountFieldError(message, "username");
  }
  return toAccount(created.user);
}

/**
 * Disables (or re-enables) an account. Disabling ends its sessions at once and refuses the last active
 * admin. Records `user.disabled` / `user.enabled` with the change; a refusal records `user.change_refused`.
 */
export async function setDisabled(db: AuditDb, actor: Actor, username: string, disabled: boolean): Promise<Change> {
  const change = disabled ? "disable" : "enable";
  const result = await writeTransaction(db, async (tx): Promise<Change | Refusal> => {
    const found = await live(tx, username, change);
    if ("refused" in found) return found;
    const { user } = found;
    if (user.disabled === disabled) return { username, changed: false, sessionsEnded: 0 };
    const refusal = await lastAdmin(tx, user, change, disabled);
    if (refusal) return refusal;
    await tx.user.update({ where: { id: user.id }, data: { disabled } });
    const sessionsEnded = disabled ? await endSessions(tx, user.id) : 0;
    await recordEvent(tx, actor, {
      action: disabled ? "user.disabled" : "user.enabled",
      outcome: "succeeded",
      reason: disabled ? `Disabled ${username}; ${sessionsEnded} session(s) ended.` : `Enabled ${username}.`,
      details: { username, sessionsEnded },
    });
    return { username, changed: true, sessionsEnded };
  });
  return "refused" in result ? refuse(db, actor, username, result) : result;
}

/**
 * Deletes an account as a tombstone: no roles, a password nobody knows, disabled, `deletedAt` set; its
 * sessions end. Refuses the last active admin. Records `user.deleted`; deleting a deleted account is a no-op.
 */
export async function deleteAccount(db: AuditDb, actor: Actor, username: string): Promise<Change> {
  // Hashed like any password, so signing in as a deleted name costs the same time as any wrong password.
  const unusable = await hash(randomBytes(32).toString("base64url"));
  const result = await writeTransaction(db, async (tx): Promise<Change | Refusal> => {
    const user = await tx.user.findUnique({ where: { username } });
    if (!user) return { refused: new UnknownAccountError(username), change: "delete" };
    if (user.deletedAt) return { username, changed: false, sessionsEnded: 0 };
    const refusal = await lastAdmin(tx, user, "delete", true);
    if (refusal) return refusal;
    const roles = parseRoles(user.roles);
    await tx.user.update({
      where: { id: user.id },
      data: {
        roles: "",
        passwordHash: unusable,
        disabled: true,
        mustChangePassword: false,
        deletedAt: new Date().toISOString(),
        deletedBy: actor.name,
      },
    });
    const sessionsEnded = await endSessions(tx, user.id);
    await recordEvent(tx, actor, {
      action: "user.deleted",
      outcome: "succeeded",
      reason: `Deleted ${username} (had ${roles.join(", ") || "no role"}); the name stays reserved.`,
      details: { username, roles, sessionsEnded },
    });
    return { username, changed: true, sessionsEnded };
  });
  return "refused" in result ? refuse(db, actor, username, result) : result;
}

/**
 * Replaces an account's roles. Taking away a role ends its sessions (the person signs in again with what
 * is left); only adding keeps them, since roles are read from the database on every request anyway.
 * Refuses to take admin from the last active admin. Records `user.roles_changed` with before and after.
 */
export async function changeRoles(
  db: AuditDb,
  actor: Actor,
  username: string,
  roleNames: readonly string[],
): Promise<Change & { roles: Role[]; previousRoles: Role[] }> {
  let roles: Role[];
  try {
    roles = requireRoles(roleNames);
  } catch (e) {
    throw new AccountFieldError((e as Error).message, "role");
  }
  const result = await writeTransaction(db, async (tx) => {
    const found = await live(tx, username, "roles");
    if ("refused" in found) return found;
    const { user } = found;
    const previousRoles = parseRoles(user.roles);
    const removed = previousRoles.filter((r) => !roles.includes(r));
    const added = roles.filter((r) => !previousRoles.includes(r));
    if (!removed.length && !added.length) return { username, changed: false, sessionsEnded: 0, roles, previousRoles };
    const refusal = await lastAdmin(tx, user, "roles", removed.includes("admin"));
    if (refusal) return refusal;
    await tx.user.update({ where: { id: user.id }, data: { roles: roles.join(",") } });
    const sessionsEnded = removed.length ? await endSessions(tx, user.id) : 0;
    await recordEvent(tx, actor, {
      action: "user.roles_changed",
      outcome: "succeeded",
      reason: `${username}: ${previousRoles.join(", ") || "no role"} → ${roles.join(", ")}.`,
      details: { username, from: previousRoles, to: roles, sessionsEnded },
    });
    return { username, changed: true, sessionsEnded, roles, previousRoles };
  });
  return "refused" in result ? refuse(db, actor, username, result) : result;
}

/**
 * Sets a temporary password (the one given, or a generated one, returned once and never stored or logged)
 * that the person must replace at their next sign-in; ends every session of the account. Records
 * `user.password_reset` without the password.
 */
export async function resetPassword(
  db: AuditDb,
  actor: Actor,
  username: string,
  temporary?: string,
): Promise<Change & { password: string; generated: boolean }> {
  const generated = temporary === undefined || temporary === "";
  const password = generated ? generatePassword() : temporary;
  checkPassword(password, "password");
  const passwordHash = await hash(password);
  const result = await writeTransaction(db, async (tx): Promise<Change | Refusal> => {
    const found = await live(tx, username, "reset-password");
    if ("refused" in found) return found;
    await tx.user.update({ where: { id: found.user.id }, data: { passwordHash, mustChangePassword: true } });
    const sessionsEnded = await endSessions(tx, found.user.id);
    await recordEvent(tx, actor, {
      action: "user.password_reset",
      outcome: "succeeded",
      reason: `Reset the password of ${username}: a new one must be chosen at the next sign-in.`,
      details: { username, generated, sessionsEnded },
    });
    return { username, changed: true, sessionsEnded };
  });
  if ("refused" in result) return refuse(db, actor, username, result);
  return { ...result, password, generated };
}

/** The account behind a session token, for the password page: also for a session that must change it first. */
export interface PasswordSession {
  sessionId: string;
  userId: number;
  username: string;
  roles: Role[];
  mustChangePassword: boolean;
}

/**
 * The live session of a token for the change-password page, whether or not the account must change its
 * password first (userForToken refuses those everywhere else). Null when unknown, expired, disabled or deleted.
 */
export async function passwordSession(db: AuditDb, token: string | undefined): Promise<PasswordSession | null> {
  if (!token || token.length > 200) return null;
  const session = await db.session.findUnique({ where: { id: tokenId(token) }, include: { user: true } });
  if (!session || session.expiresAt <= new Date().toISOString() || session.user.disabled || session.user.deletedAt) return null;
  const u = session.user;
  return {
    sessionId: session.id,
    userId: u.id,
    username: u.username,
    roles: parseRoles(u.roles),
    mustChangePassword: u.mustChangePassword,
  };
}

/**
 * The signed-in person changes their own password: the current one is required (at most 5 wrong tries
 * in 15 minutes per account), the new one must differ. Clears a reset's must-change mark and ends every
 * other session of the account. Records `user.password_changed` without either password.
 */
export async function changeOwnPassword(
  db: AuditDb,
  session: PasswordSession,
  input: { current: string; next: string },
): Promise<Change & { wasRequired: boolean }> {
  // Counted before the check, in one statement, like sign-in (throttle.ts): parallel tries cannot all pass.
  const policy = signInPolicy();
  const charges: Charge[] = [{ key: `password:${session.userId}`, backoff: policy.account }];
  const now = Date.now();
  const charged = await chargeAttempt(db, charges, now, policy.forgetMs);
  if (!charged.ok) throw new AccountError("Too many wrong current passwords. Wait a few minutes and try again.");
  const user = await db.user.findUnique({ where: { id: session.userId } });
  if (!user || user.deletedAt || user.disabled) throw new UnknownAccountError(session.username);
  if (!(await verify(user.passwordHash, input.current).catch(() => false))) {
    throw new AccountFieldError("That is not your current password.", "currentPassword");
  }
  await refundAttempt(db, charges);
  checkPassword(input.next, "newPassword");
  if (input.next === input.current) throw new AccountFieldError("Choose a password different from the current one.", "newPassword");
  const passwordHash = await hash(input.next);
  const result = await writeTransaction(db, async (tx) => {
    // Only if nobody reset it meanwhile: the current password checked above must still be the stored one.
    const updated = await tx.user.updateMany({
      where: { id: user.id, passwordHash: user.passwordHash, deletedAt: null, disabled: false },
      data: { passwordHash, mustChangePassword: false, passwordChangedAt: new Date().toISOString() },
    });
    if (updated.count === 0) return null;
    const sessionsEnded = await endSessions(tx, user.id, session.sessionId);
    await recordEvent(
      tx,
      { name: user.username, role: parseRoles(user.roles).join(","), source: "web" },
      {
        action: "user.password_changed",
        outcome: "succeeded",
        reason: `${user.username} changed their password${user.mustChangePassword ? " (required after a reset)" : ""}; ${sessionsEnded} other session(s) ended.`,
        details: { username: user.username, required: user.mustChangePassword, sessionsEnded },
      },
    );
    return { username: user.username, changed: true, sessionsEnded, wasRequired: user.mustChangePassword };
  });
  if (!result) throw new AccountError("Your account changed meanwhile (its password was reset or it was disabled). Sign in again.");
  return result;
}
