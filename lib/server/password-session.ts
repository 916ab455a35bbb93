import "server-only";
import { cookies } from "next/headers";
import { type PasswordSession, passwordSession, proxyConfig } from "@/lib/auth";
import { db, SESSION_COOKIE } from "./session";

/**
 * This request's session as the change-password page sees it: also a session whose account must change its
 * password before anything else (currentUser() answers null for those). Null behind the sign-in proxy,
 * which owns passwords there.
 */
export async function currentPasswordSession(): Promise<PasswordSession | null> {
  if (proxyConfig()) return null;
  return passwordSession(db(), (await cookies()).get(SESSION_COOKIE)?.value);
}
