import type { Actor, AuditDb } from "@/lib/audit";
import { recordEvent } from "@/lib/audit/log";
import type { Role, SessionUser } from "@/lib/auth";
import { InvalidInputError } from "@/lib/registry/errors";

/**
 * Who is acting, as the two-person rule sees it: the account (null behind the sign-in proxy, which has
 * no accounts of ours) and the normalised person behind it. Two identities are one person when they
 * share the account or the person.
 */
export interface Identity {
  accountId: number | null;
  username: string;
  /** normalizePerson of the account's person (its username when none was set). */
  person: string;
  roles: Role[];
  source: "web" | "cli" | "api";
  /** The operating-system user of a CLI process, for the record. */
  osUser?: string;
  /** For an API token: the name of whoever made it (an account, or an OS user for a token made from a shell). */
  madeBy?: string;
}

const MAX_PERSON = 200;

/**
 * A person's name or email in a form where two spellings of one person compare equal: Unicode NFKC
 * (full-width and compatibility forms), invisible characters dropped, case folded (upper then lower,
 * so "ß" and "SS" meet), whitespace collapsed and trimmed. Pure. Confusable letters from other scripts
 * (Cyrillic "а" for Latin "a") are not folded: the person field is set by admins, not by the people.
 */
export function normalizePerson(text: string): string {
  return text
    .normalize("NFKC")
    .replace(/\p{Default_Ignorable_Code_Point}/gu, "")
    .toUpperCase()
    .toLowerCase()
    .normalize("NFKC")
    .replace(/\s+/gu, " ")
    .trim();
}

/** True when two identities are the same human: the same account, or the same normalised person. Pure. */
export function samePerson(a: Pick<Identity, "accountId" | "person">, b: Pick<Identity, "accountId" | "person">): boolean {
  if (a.accountId !== null && a.accountId === b.accountId) return true;
  return a.person !== "" && a.person === b.person;
}

/** The identity of a signed-in web user, with the person read from their account. Reads only. */
export async function identityOfUser(db: AuditDb, user: SessionUser, source: "web" | "cli" = "web"): Promise<Identity> {
  // Id 0 is a person signed in by the trusted proxy: no account row; the proxy's name is the person.
  const row = user.id > 0 ? await db.user.findUnique({ where: { id: user.id }, select: { person: true } }) : null;
  return {
    accountId: row ? user.id : null,
    username: user.username,
    person: normalizePerson(row?.person || user.username),
    roles: user.roles,
    source,
  };
}

/**
 * An API token as the two-person rule sees it: the account and person of whoever made the token (their
 * account's person, or the creator's name when no account has it: a CLI-made token names the OS user). A
 * pipeline asks on its maker's behalf, so an admin who is also a releaser cannot mint a token, ask with it
 * and approve the request themselves; any other releaser can. Reads only.
 */
export async function identityOfToken(db: AuditDb, token: { name: string; role: Role; createdBy: string }): Promise<Identity> {
  const maker = await db.user.findUnique({ where: { username: token.createdBy }, select: { id: true, person: true, username: true } });
  return {
    // The maker's account: the same-account check and the person "now" follow it, so renaming the person after
    // asking does not let the maker approve.
    accountId: maker?.id ?? null,
    username: token.name,
    person: normalizePerson(maker ? maker.person || maker.username : token.createdBy),
    roles: [token.role],
    source: "api",
    madeBy: token.createdBy,
  };
}

/** The person of an account as it is now (normalised), or null when the account no longer exists. Reads only. */
export async function personOfAccount(db: AuditDb, accountId: number): Promise<string | null> {
  const row = await db.user.findUnique({ where: { id: accountId }, select: { person: true, username: true } });
  return row ? normalizePerson(row.person || row.username) : null;
}

/** The person set on each account (null: none set, the username stands for it), by account id. Reads only. */
export async function personsByAccount(db: AuditDb): Promise<Map<number, string | null>> {
  const rows = await db.user.findMany({ select: { id: true, person: true } });
  return new Map(rows.map((r) => [r.id, r.person]));
}

/**
 * Sets the person behind an account (an admin's act, audited as `user.person_changed` with the old and
 * new value). An empty text clears it, so the username stands for the person again.
 */
export async function setPerson(
  db: AuditDb,
  actor: Actor,
  username: string,
  text: string,
): Promise<{ old: string | null; person: string | null }> {
  const person = text.normalize("NFKC").replace(/\s+/gu, " ").trim() || null;
  if (person !== null && (person.length > MAX_PERSON || normalizePerson(person) === "")) {
    throw new InvalidInputError(`A person is a full name or an email of at most ${MAX_PERSON} characters.`);
  }
  const user = await db.user.findUnique({ where: { username }, select: { id: true, person: true } });
  if (!user) throw new UnknownAccountError(username);
  if (user.person === person) return { old: user.person, person };
  await db.user.update({ where: { id: user.id }, data: { person } });
  await recordEvent(db, actor, {
    action: "user.person_changed",
    outcome: "succeeded",
    reason: `${username} is now ${person ?? "(their username)"} for the two-person rule (was ${user.person ?? "(their username)"}).`,
    details: { username, old: user.person, new: person },
  });
  return { old: user.person, person };
}

/** No account of that name. */
export class UnknownAccountError extends InvalidInputError {
  constructor(readonly username: string) {
    super(`No account named "${username}".`);
  }
}
