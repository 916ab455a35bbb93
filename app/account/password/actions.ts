"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { AccountError, AccountFieldError, changeOwnPassword, MIN_PASSWORD } from "@/lib/auth";
import { RegistryError } from "@/lib/registry";
import type { ActionResult } from "@/lib/server/action";
import { currentPasswordSession } from "@/lib/server/password-session";
import { db } from "@/lib/server/session";

const change = z
  .object({
    currentPassword: z.string().min(1, "Enter your current password.").max(1000),
    newPassword: z.string().min(MIN_PASSWORD, `At least ${MIN_PASSWORD} characters.`).max(1000),
    confirm: z.string().max(1000),
  })
  .refine((v) => v.newPassword === v.confirm, { path: ["confirm"], message: "The new passwords differ." });

/**
 * Everyone's own password change. Not a defineAction: it needs no permission, and it must also serve a
 * session that may do nothing else until the password is changed (after an admin's reset). It checks the
 * session itself, validates everything, and never hands a password back.
 */
export async function changePasswordAction(_prev: unknown, form: FormData): Promise<ActionResult<{ sessionsEnded: number }>> {
  const session = await currentPasswordSession();
  if (!session) return { ok: false, code: "unauthenticated", error: "Sign in first." };
  const parsed = change.safeParse(Object.fromEntries(form));
  if (!parsed.success) return { ok: false, error: "Some fields need attention.", fieldErrors: z.flattenError(parsed.error).fieldErrors };
  let result: Awaited<ReturnType<typeof changeOwnPassword>>;
  try {
    result = await changeOwnPassword(db(), session, { current: parsed.data.currentPassword, next: parsed.data.newPassword });
  } catch (e) {
    if (e instanceof AccountFieldError) return { ok: false, error: e.message, fieldErrors: { [e.field]: [e.message] } };
    if (e instanceof AccountError || e instanceof RegistryError) return { ok: false, error: e.message };
    throw e;
  }
  // A required change was all this session could do: now it is a session like any other, and every
  // segment (the layout's user box too) renders again as such.
  revalidatePath("/", "layout");
  if (result.wasRequired) redirect("/");
  return { ok: true, data: { sessionsEnded: result.sessionsEnded } };
}
