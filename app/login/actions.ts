"use server";

import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { z } from "zod";
import { secret } from "@/lib/audit";
import { AccountError, BROWSER_TTL_MS, createFirstAdmin, endSession, openSession, signIn, USERNAME } from "@/lib/auth";
import { safeNextPath } from "@/lib/auth/redirect";
import type { ActionResult } from "@/lib/server/action";
import { BROWSER_COOKIE, clientAddress, db, SESSION_COOKIE, secureCookies } from "@/lib/server/session";
import { keptValues } from "@/lib/views/form-values";

const credentials = z.object({
  username: z.string().trim().min(1, "Enter your username.").max(40),
  password: secret(z.string().min(1, "Enter your password.").max(1000)),
  // Any value: a hostile or overlong `next` only means going home (safeNextPath), never a failed sign-in.
  next: z.unknown().optional(),
});

async function startSession(token: string, expiresAt: Date, browserToken?: string): Promise<void> {
  const jar = await cookies();
  const secure = await secureCookies();
  jar.set(SESSION_COOKIE, token, { httpOnly: true, sameSite: "lax", secure, path: "/", expires: expiresAt });
  // Outlives sessions: it is how sign-in limits tell this browser from someone guessing at the account.
  if (browserToken) {
    jar.set(BROWSER_COOKIE, browserToken, { httpOnly: true, sameSite: "lax", secure, path: "/", maxAge: BROWSER_TTL_MS / 1000 });
  }
}

/** Sign-in: public by nature, so it validates everything itself and is rate-limited per account and address. */
export async function signInAction(_prev: unknown, form: FormData): Promise<ActionResult<null>> {
  const parsed = credentials.safeParse(Object.fromEntries(form));
  if (!parsed.success)
    return {
      ok: false,
      error: "Enter your username and password.",
      fieldErrors: z.flattenError(parsed.error).fieldErrors,
      values: keptValues(form),
    };
  // Decided before the session exists, so a bad `next` can never fail a request that already signed someone in.
  const target = safeNextPath(parsed.data.next);
  const jar = await cookies();
  const result = await signIn(db(), {
    username: parsed.data.username,
    password: parsed.data.password,
    address: await clientAddress(),
    browserToken: jar.get(BROWSER_COOKIE)?.value,
  });
  if (!result.ok) return { ok: false, error: result.error, values: keptValues(form) };
  await startSession(result.token, result.expiresAt, result.browserToken);
  redirect(target);
}

const firstAdmin = z
  .object({
    username: z.string().trim().regex(USERNAME, "2–40 letters, digits, '.', '_' or '-', starting with a letter or digit."),
    password: secret(z.string().min(10, "At least 10 characters.").max(1000)),
    confirm: secret(z.string()),
  })
  .refine((v) => v.password === v.confirm, { path: ["confirm"], message: "The passwords differ." });

/**
 * First run only: creates the first admin while no account exists, then signs them in. The check and the
 * creation are one transaction with its audit event (createFirstAdmin): of parallel calls, one wins.
 */
export async function createFirstAdminAction(_prev: unknown, form: FormData): Promise<ActionResult<null>> {
  const parsed = firstAdmin.safeParse(Object.fromEntries(form));
  if (!parsed.success) {
    return {
      ok: false,
      error: "Some fields need attention.",
      fieldErrors: z.flattenError(parsed.error).fieldErrors,
      values: keptValues(form),
    };
  }
  const database = db();
  const address = await clientAddress();
  let admin: Awaited<ReturnType<typeof createFirstAdmin>>;
  try {
    admin = await createFirstAdmin(database, { username: parsed.data.username, password: parsed.data.password, address });
  } catch (e) {
    if (e instanceof AccountError) return { ok: false, error: e.message, values: keptValues(form) };
    throw e;
  }
  if (!admin) return { ok: false, error: "An admin already exists: sign in instead." };
  const session = await openSession(database, admin.id, address);
  await startSession(session.token, session.expiresAt);
  redirect("/admin/users");
}

/** Sign-out: ends the session in the database and clears the cookie (the browser stays known). */
export async function signOutAction(): Promise<void> {
  const jar = await cookies();
  await endSession(db(), jar.get(SESSION_COOKIE)?.value);
  jar.delete(SESSION_COOKIE);
  redirect("/login");
}
