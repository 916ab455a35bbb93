"use server";

import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { z } from "zod";
import { secret } from "@/lib/audit";
import { AccountError, countUsers, createUser, endSession, signIn } from "@/lib/auth";
import type { ActionResult } from "@/lib/server/action";
import { clientAddress, db, SESSION_COOKIE, secureCookies } from "@/lib/server/session";

const credentials = z.object({
  username: z.string().trim().min(1, "Enter your username.").max(40),
  password: secret(z.string().min(1, "Enter your password.").max(1000)),
  next: z.string().max(500).optional(),
});

/** Only same-site paths: an open redirect after sign-in would hand the session to a phishing page. */
function safeNext(next: string | undefined): string {
  return next && /^\/(?!\/)[^\\]*$/.test(next) ? next : "/";
}

async function startSession(token: string, expiresAt: Date): Promise<void> {
  (await cookies()).set(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "lax",
    secure: await secureCookies(),
    path: "/",
    expires: expiresAt,
  });
}

/** Sign-in: public by nature, so it validates everything itself and is rate-limited per account and address. */
export async function signInAction(_prev: unknown, form: FormData): Promise<ActionResult<null>> {
  const parsed = credentials.safeParse(Object.fromEntries(form));
  if (!parsed.success)
    return { ok: false, error: "Enter your username and password.", fieldErrors: z.flattenError(parsed.error).fieldErrors };
  const result = await signIn(db(), { ...parsed.data, address: await clientAddress() });
  if (!result.ok) return { ok: false, error: result.error };
  await startSession(result.token, result.expiresAt);
  redirect(safeNext(parsed.data.next));
}

const firstAdmin = z
  .object({
    username: z.string().trim().min(2).max(40),
    password: secret(z.string().min(10, "At least 10 characters.").max(1000)),
    confirm: secret(z.string()),
  })
  .refine((v) => v.password === v.confirm, { path: ["confirm"], message: "The passwords differ." });

/** First run only: creates the first admin while no account exists, then signs them in. */
export async function createFirstAdminAction(_prev: unknown, form: FormData): Promise<ActionResult<null>> {
  const parsed = firstAdmin.safeParse(Object.fromEntries(form));
  if (!parsed.success) return { ok: false, error: "Some fields need attention.", fieldErrors: z.flattenError(parsed.error).fieldErrors };
  const database = db();
  // Checked inside the action: once an account exists this endpoint creates nothing, whoever calls it.
  if ((await countUsers(database)) > 0) return { ok: false, error: "An admin already exists: sign in instead." };
  try {
    await createUser(database, {
      username: parsed.data.username,
      password: parsed.data.password,
      roles: ["admin"],
      createdBy: "first-run set-up",
    });
  } catch (e) {
    if (e instanceof AccountError) return { ok: false, error: e.message };
    throw e;
  }
  const result = await signIn(database, { username: parsed.data.username, password: parsed.data.password, address: await clientAddress() });
  if (result.ok) await startSession(result.token, result.expiresAt);
  redirect("/admin/users");
}

/** Sign-out: ends the session in the database and clears the cookie. */
export async function signOutAction(): Promise<void> {
  const jar = await cookies();
  await endSession(db(), jar.get(SESSION_COOKIE)?.value);
  jar.delete(SESSION_COOKIE);
  redirect("/login");
}
