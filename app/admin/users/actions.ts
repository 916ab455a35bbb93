"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { type Actor, secret } from "@/lib/audit";
import {
  AccountError,
  AccountFieldError,
  changeRoles,
  createAccount,
  deleteAccount,
  MIN_PASSWORD,
  ROLES,
  resetPassword,
  type SessionUser,
  setDisabled,
} from "@/lib/auth";
import { type ActionResult, defineAction } from "@/lib/server/action";
import { db } from "@/lib/server/session";

// Every action here is an admin's (users.manage), checked inside defineAction; the change, its sessions
// ending and its audit event happen together in lib/auth/lifecycle.ts, the same code the CLI runs.

const username = z.string().trim().min(1, "Which account?").max(40);
const roles = z
  .union([z.enum(ROLES), z.array(z.enum(ROLES))])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]))
  .refine((v) => v.length > 0, "Choose at least one role.");

const actorOf = (user: SessionUser): Actor => ({ name: user.username, role: user.roles.join(","), source: "web" });

/** An account error as a form result, with the message beside its field when it has one. */
function failure(e: unknown): ActionResult<never> {
  if (e instanceof AccountFieldError) return { ok: false, error: e.message, fieldErrors: { [e.field]: [e.message] } };
  if (e instanceof AccountError) return { ok: false, error: e.message };
  throw e;
}

function changed(): void {
  revalidatePath("/admin/users", "layout");
}

const newUser = z.object({
  username: z.string().trim().min(2, "At least 2 characters.").max(40),
  password: secret(z.string().min(MIN_PASSWORD, `At least ${MIN_PASSWORD} characters.`).max(1000)),
  role: roles,
});

/** Admins create accounts; the creation is audited like any other change of who may do what. */
export const createUserAction = defineAction("user.create", "users.manage", newUser, async (input, { user }) => {
  try {
    const created = await createAccount(db(), actorOf(user), { username: input.username, password: input.password, roles: input.role });
    changed();
    return { ok: true, data: { username: created.username } };
  } catch (e) {
    return failure(e);
  }
});

/** Replaces an account's roles; taking one away ends its sessions; the last admin keeps admin. */
export const changeRolesAction = defineAction(
  "user.roles",
  "users.manage",
  z.object({ username, role: roles }),
  async (input, { user }) => {
    try {
      const r = await changeRoles(db(), actorOf(user), input.username, input.role);
      changed();
      return { ok: true, data: { username: r.username, changed: r.changed, roles: r.roles, sessionsEnded: r.sessionsEnded } };
    } catch (e) {
      return failure(e);
    }
  },
);

/** Disables (ending its sessions at once) or re-enables an account. */
export const setDisabledAction = defineAction(
  "user.disable",
  "users.manage",
  z.object({ username, disabled: z.enum(["true", "false"]).transform((v) => v === "true") }),
  async (input, { user }) => {
    const r = await setDisabled(db(), actorOf(user), input.username, input.disabled);
    changed();
    return { ok: true, data: { ...r, disabled: input.disabled } };
  },
);

/** Sets a temporary password (typed, or generated and shown once to the admin) that must be changed at next sign-in. */
export const resetPasswordAction = defineAction(
  "user.reset_password",
  "users.manage",
  z.object({ username, password: z.string().max(1000).optional() }),
  async (input, { user }) => {
    try {
      const r = await resetPassword(db(), actorOf(user), input.username, input.password || undefined);
      changed();
      // A generated password is the one thing the admin must pass on: shown once, in this answer only.
      return { ok: true, data: { username: r.username, sessionsEnded: r.sessionsEnded, generated: r.generated ? r.password : null } };
    } catch (e) {
      return failure(e);
    }
  },
);

/** Deletes an account for good, keeping its name reserved; the admin types the name to confirm. */
export const deleteAccountAction = defineAction(
  "user.delete",
  "users.manage",
  z
    .object({ username, typedName: z.string().trim().max(40) })
    .refine((v) => v.typedName === v.username, { path: ["typedName"], message: "Type the account's name exactly to delete it." }),
  async (input, { user }) => {
    const r = await deleteAccount(db(), actorOf(user), input.username);
    changed();
    return { ok: true, data: r };
  },
);
