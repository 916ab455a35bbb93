// Accounts for tests, made the way an admin's are (createAccount: hashed, checked, recorded as `user.created`).
import type { AuditDb } from "@/lib/audit/db";
import { createAccount } from "../lifecycle";
import type { SessionUser } from "../accounts";

/** An account created by `createdBy` through the command line, as the session user a sign-in would give. */
export async function createUser(
  db: AuditDb,
  input: { username: string; password: string; roles: string[]; createdBy: string },
): Promise<SessionUser> {
  const account = await createAccount(db, { name: input.createdBy, role: "cli", source: "cli" }, input);
  return { id: account.id, username: account.username, roles: account.roles };
}
