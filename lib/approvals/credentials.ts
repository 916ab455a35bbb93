import type { AuditDb } from "@/lib/audit";
import { endSession, type SessionUser, signIn } from "@/lib/auth/accounts";
import { NotAuthorisedError } from "./errors";

/**
 * Checks an account's username and password for the CLI, exactly as the sign-in page does (argon2id,
 * the same per-account and per-address rate limits, disabled accounts refused): it signs in and ends
 * that session at once. A temporary password from a reset is refused, as on the web, where it opens only
 * the page that changes it. Throws NotAuthorisedError; the password never appears in a message.
 */
export async function authenticate(db: AuditDb, username: string, password: string, address: string): Promise<SessionUser> {
  const result = await signIn(db, { username, password, address });
  if (!result.ok) throw new NotAuthorisedError("unauthenticated", `Cannot sign in as ${username}: ${result.error}`);
  await endSession(db, result.token);
  const account = await db.user.findUnique({ where: { id: result.user.id }, select: { mustChangePassword: true } });
  if (account?.mustChangePassword !== false) {
    throw new NotAuthorisedError(
      "unauthenticated",
      `${username} has a temporary password from a reset: change your password first (sign in on the dashboard), then try again.`,
    );
  }
  return result.user;
}
