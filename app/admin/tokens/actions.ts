"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import type { Actor } from "@/lib/audit";
import { type SessionUser, ROLES } from "@/lib/auth";
import { createApiToken, parseExpiry, revokeApiToken, TokenInputError, UnknownTokenError } from "@/lib/auth/api-tokens";
import { defineAction } from "@/lib/server/action";
import { db } from "@/lib/server/session";

// Admins' API tokens (users.manage), checked inside defineAction; creation and revocation are audited in
// the same transaction as the change (lib/auth/api-tokens.ts, the code `registry tokens` runs too).

const actorOf = (user: SessionUser): Actor => ({ name: user.username, role: user.roles.join(","), source: "web" });

const newToken = z.object({
  name: z.string().min(1, "Name the token (the audit log shows it as the actor).").max(64),
  role: z.enum(ROLES, "Choose the one role the token acts with."),
  expiresInDays: z.coerce.number().int("Whole days.").min(1, "At least a day.").max(366, "At most 366 days."),
});

/** Creates a token and hands it back this once: it is never stored or shown again. */
export const createTokenAction = defineAction("token.create", "users.manage", newToken, async (input, { user }) => {
  try {
    const created = await createApiToken(db(), {
      name: input.name,
      role: input.role,
      expiresInMs: parseExpiry(`${input.expiresInDays}d`),
      by: actorOf(user),
    });
    revalidatePath("/admin/tokens");
    return { ok: true, data: created };
  } catch (e) {
    if (e instanceof TokenInputError) return { ok: false, error: e.message, fieldErrors: { name: [e.message] } };
    throw e;
  }
});

/** Revokes a token at once: its next request is refused. */
export const revokeTokenAction = defineAction(
  "token.revoke",
  "users.manage",
  z.object({ id: z.coerce.number().int().positive() }),
  async (input, { user }) => {
    try {
      const revoked = await revokeApiToken(db(), input.id, actorOf(user));
      revalidatePath("/admin/tokens");
      return { ok: true, data: { id: revoked.id, name: revoked.name } };
    } catch (e) {
      if (e instanceof UnknownTokenError) return { ok: false, error: e.message };
      throw e;
    }
  },
);
