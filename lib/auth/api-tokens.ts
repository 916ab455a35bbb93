import { createHash, randomBytes } from "node:crypto";
import type { AuditDb } from "@/lib/audit/db";
import { type Actor, recordEvent } from "@/lib/audit/log";
import { InvalidInputError, RegistryError } from "@/lib/registry/errors";
import { ROLES, type Role } from "./roles";

// Bearer tokens for the HTTP API. A token is "mrt_" and 43 characters of base64url: 256 random bits. Only
// its sha256 is stored. A slow hash (argon2, as for passwords) guards guessable secrets; nothing can guess
// 256 random bits, so sha256 is as safe here, and it lets every API request find its token with one
// indexed lookup instead of ~50 ms of argon2 (a stolen database still yields no usable token).

export const TOKEN_PREFIX = "mrt_";
const TOKEN_SHAPE = /^mrt_[A-Za-z0-9_-]{43}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** How long a token lives when nobody says: 90 days. At most a year: a token must expire. */
export const DEFAULT_EXPIRY_DAYS = 90;
export const MAX_EXPIRY_DAYS = 366;
// last-used is written at most this often per token, so a busy pipeline does not write on every request.
const LAST_USED_EVERY_MS = 60_000;

export interface ApiTokenView {
  id: number;
  name: string;
  role: Role;
  /** The first characters of the token, enough to recognise it and useless to use. */
  prefix: string;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  lastUsedAt: string | null;
  state: "active" | "expired" | "revoked";
}

export interface CreatedToken {
  id: number;
  name: string;
  role: Role;
  /** The token itself: shown to its creator once, never stored. */
  token: string;
  expiresAt: string;
}

/** A name or role an admin typed that cannot be used. */
export class TokenInputError extends InvalidInputError {}

/** No such token (or it was revoked already). */
export class UnknownTokenError extends RegistryError {
  override readonly code = "unknown_token";
  override readonly exitCode = 2;
}

/** sha256 (hex) of a token, as stored. Pure. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/**
 * "90d", "12h", "30" (days) as milliseconds; throws TokenInputError on anything else, on zero, or past
 * MAX_EXPIRY_DAYS. Pure.
 */
export function parseExpiry(text: string | undefined): number {
  if (text === undefined || text.trim() === "") return DEFAULT_EXPIRY_DAYS * 86_400_000;
  const m = text.trim().match(/^(\d{1,6})\s*([dh]?)$/i);
  const ms = m ? Number(m[1]) * (m[2]?.toLowerCase() === "h" ? 3_600_000 : 86_400_000) : Number.NaN;
  if (!(ms > 0) || ms > MAX_EXPIRY_DAYS * 86_400_000) {
    throw new TokenInputError(`--expires must be a number of days or hours ("90d", "12h"), at most ${MAX_EXPIRY_DAYS} days.`);
  }
  return ms;
}

/**
 * Creates a token for `role`, named `name` (unique among tokens not revoked), expiring `expiresInMs` from
 * now, and records `token.created` (name, role, prefix, expiry: never the token) in the same transaction.
 * Returns the token: the only time it is ever available.
 */
export async function createApiToken(
  db: AuditDb,
  input: { name: string; role: string; expiresInMs: number; by: Actor },
  now = new Date(),
): Promise<CreatedToken> {
  const name = input.name;
  if (!NAME.test(name))
    throw new TokenInputError(`A token name is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit.`);
  const role = (ROLES as readonly string[]).includes(input.role) ? (input.role as Role) : null;
  if (!role) throw new TokenInputError(`Unknown role "${input.role.slice(0, 40)}"; roles are ${ROLES.join(", ")}.`);
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  const expiresAt = new Date(now.getTime() + input.expiresInMs).toISOString();
  const prefix = token.slice(0, 12);
  const row = await db.$transaction(async (tx) => {
    if (await tx.apiToken.findFirst({ where: { name, revokedAt: null }, select: { id: true } })) {
      throw new TokenInputError(`A token named "${name}" exists: revoke it first, or choose another name.`);
    }
    const created = await tx.apiToken.create({
      data: { name, role, tokenHash: hashToken(token), prefix, createdAt: now.toISOString(), createdBy: input.by.name, expiresAt },
    });
    await recordEvent(tx, input.by, {
      action: "token.created",
      outcome: "succeeded",
      reason: `API token "${name}" created for the ${role} role, expiring ${expiresAt}.`,
      details: { tokenId: created.id, name, role, prefix, expiresAt },
    });
    return created;
  });
  return { id: row.id, name, role, token, expiresAt };
}

/** Every token, newest first, with its state now. Reads only; no hash leaves this module. */
export async function listApiTokens(db: AuditDb, now = new Date()): Promise<ApiTokenView[]> {
  const rows = await db.apiToken.findMany({ orderBy: { id: "desc" }, take: 500 });
  return rows.map(({ tokenHash: _hash, ...r }) => ({
    ...r,
    role: r.role as Role,
    state: r.revokedAt ? "revoked" : r.expiresAt && r.expiresAt <= now.toISOString() ? "expired" : "active",
  }));
}

/**
 * Revokes a token (by id, or by the name of a token not yet revoked) and records `token.revoked` in the
 * same transaction. Throws UnknownTokenError when there is no such token not yet revoked.
 */
export async function revokeApiToken(db: AuditDb, which: number | string, by: Actor, now = new Date()): Promise<ApiTokenView> {
  const at = now.toISOString();
  await db.$transaction(async (tx) => {
    const row = await tx.apiToken.findFirst({
      where: typeof which === "number" ? { id: which, revokedAt: null } : { name: which, revokedAt: null },
    });
    if (!row) throw new UnknownTokenError(`No token ${typeof which === "number" ? `#${which}` : `"${which}"`} to revoke.`);
    await tx.apiToken.update({ where: { id: row.id }, data: { revokedAt: at, revokedBy: by.name } });
    await recordEvent(tx, by, {
      action: "token.revoked",
      outcome: "succeeded",
      reason: `API token "${row.name}" (${row.role}) revoked.`,
      details: { tokenId: row.id, name: row.name, role: row.role, prefix: row.prefix },
    });
    which = row.id;
  });
  const view = (await listApiTokens(db, now)).find((t) => t.id === which);
  if (!view) throw new UnknownTokenError(`Token #${which} vanished while it was revoked.`);
  return view;
}

export type BearerCheck =
  | { ok: true; token: { id: number; name: string; role: Role; createdBy: string } }
  | { ok: false; why: "missing" | "malformed" | "unknown" | "revoked" | "expired"; token?: { name: string; role: string } };

/**
 * The token an `Authorization` header carries, if it is usable now: well formed, known, not revoked, not
 * expired. Records when a usable token was last used (at most once a minute).
 */
export async function tokenForBearer(db: AuditDb, authorization: string | null, now = new Date()): Promise<BearerCheck> {
  if (!authorization) return { ok: false, why: "missing" };
  const m = authorization.match(/^Bearer\s+(\S{1,200})\s*$/i);
  if (!m?.[1] || !TOKEN_SHAPE.test(m[1])) return { ok: false, why: "malformed" };
  const row = await db.apiToken.findUnique({ where: { tokenHash: hashToken(m[1]) } });
  if (!row) return { ok: false, why: "unknown" };
  const who = { name: row.name, role: row.role };
  if (row.revokedAt) return { ok: false, why: "revoked", token: who };
  if (row.expiresAt && row.expiresAt <= now.toISOString()) return { ok: false, why: "expired", token: who };
  if (!row.lastUsedAt || Date.parse(row.lastUsedAt) <= now.getTime() - LAST_USED_EVERY_MS) {
    await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now.toISOString() } });
  }
  return { ok: true, token: { id: row.id, name: row.name, role: row.role as Role, createdBy: row.createdBy } };
}
