import { existsSync } from "node:fs";
import { type Actor, openAudit } from "@/lib/audit";
import {
  AccountError,
  changeRoles,
  createAccount,
  deleteAccount,
  generatePassword,
  listAccounts,
  MIN_PASSWORD,
  requireRoles,
  resetPassword,
  setDisabled,
  UnknownAccountError,
  USERNAME,
} from "@/lib/auth";
import { setPerson } from "@/lib/approvals/people";
import { databaseTarget } from "@/lib/db/url";
import { InvalidInputError, resolveRoot } from "@/lib/registry";
import { common, type Out, parse } from "./args";

const USAGE: Record<string, string> = {
  add: "registry users add NAME --role ROLE [--role ROLE] [--password-stdin]",
  roles: "registry users roles NAME --role ROLE [--role ROLE]",
  disable: "registry users disable NAME",
  enable: "registry users enable NAME",
  delete: "registry users delete NAME",
  "reset-password": "registry users reset-password NAME [--password-stdin]",
  person: 'registry users person NAME "FULL NAME OR EMAIL" (or "" for none)',
};

/**
 * `registry users add|list|roles|disable|enable|delete|reset-password|person`: accounts from a shell, e.g.
 * the first admin on a new server. Every change is audited with the OS user as the actor (source "cli").
 */
export async function usersCommand(args: string[], io: Out, actor: string): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(
    rest,
    { ...common, role: { type: "string", multiple: true }, "password-stdin": { type: "boolean" } },
    sub === "person" ? 2 : 1,
  );
  // Each subcommand takes only its own flags.
  const allowed: Record<string, string[]> = { add: ["role", "password-stdin"], roles: ["role"], "reset-password": ["password-stdin"] };
  for (const flag of ["role", "password-stdin"] as const) {
    if (values[flag] !== undefined && !(allowed[sub ?? ""] ?? []).includes(flag))
      throw new InvalidInputError(`registry users ${sub ?? ""} takes no --${flag}. Run \`registry users --help\` for its usage.`);
  }
  const root = resolveRoot(values.root);
  const who: Actor = { name: actor, role: "cli", source: "cli" };
  // Every argument is checked before the database is opened, so bad usage creates nothing; reading or
  // changing accounts of a registry with no database yet never creates one.
  const target = databaseTarget(root);
  const hasDb = target.provider !== "sqlite" || existsSync(target.file);
  try {
    if (sub === "list") {
      const users = hasDb ? await listAccounts(openAudit(root)) : [];
      if (io.json) io.printJson({ users });
      else for (const u of users) io.print(`${u.username.padEnd(20)} ${u.roles.join(",")}${status(u)}`);
      return 0;
    }
    const usage = sub !== undefined && Object.hasOwn(USAGE, sub) ? USAGE[sub] : undefined;
    if (!usage)
      throw new InvalidInputError("Usage: registry users add|list|roles|disable|enable|delete|reset-password|person (see `registry --help`).");
    const name = positionals[0];
    if (!name) throw new InvalidInputError(`Usage: ${usage}`);
    if (!USERNAME.test(name)) throw new InvalidInputError("Usernames are 2–40 letters, digits, '.', '_' or '-'.");
    const roles = sub === "add" || sub === "roles" ? rolesOf(values.role) : [];
    const person = positionals[1];
    if (sub === "person" && person === undefined) throw new InvalidInputError(`Usage: ${usage}`);
    if (sub !== "add" && !hasDb) throw new UnknownAccountError(name);
    const generated = sub === "add" && !values["password-stdin"];
    const password = sub !== "add" ? "" : generated ? generatePassword() : (await readStdin()).trim();
    if (sub === "add" && password.length < MIN_PASSWORD) throw new InvalidInputError(`Passwords need at least ${MIN_PASSWORD} characters.`);
    const db = openAudit(root);
    if (sub === "add") {
      const user = await createAccount(db, who, { username: name, password, roles });
      if (io.json) io.printJson({ username: user.username, roles: user.roles, ...(generated ? { password } : {}) });
      else io.print(`Created ${user.username} (${user.roles.join(", ")}).${generated ? ` Password: ${password}` : ""}`);
      return 0;
    }
    if (sub === "roles") {
      const r = await changeRoles(db, who, name, roles);
      if (io.json) io.printJson(r);
      else if (!r.changed) io.print(`${name} already has ${r.roles.join(", ")}: nothing changed.`);
      else io.print(`${name} now has ${r.roles.join(", ")} (was ${r.previousRoles.join(", ") || "no role"}).${ended(r.sessionsEnded)}`);
      return 0;
    }
    if (sub === "disable" || sub === "enable") {
      const disabled = sub === "disable";
      const r = await setDisabled(db, who, name, disabled);
      if (io.json) io.printJson({ ...r, disabled });
      else if (!r.changed) io.print(`${name} was already ${disabled ? "disabled" : "enabled"}: nothing changed.`);
      else io.print(`${disabled ? "Disabled" : "Enabled"} ${name}.${ended(r.sessionsEnded)}`);
      return 0;
    }
    if (sub === "delete") {
      const r = await deleteAccount(db, who, name);
      if (io.json) io.printJson({ ...r, deleted: true });
      else if (!r.changed) io.print(`${name} was already deleted: nothing changed.`);
      else io.print(`Deleted ${name}; the name stays reserved.${ended(r.sessionsEnded)}`);
      return 0;
    }
    if (sub === "person") {
      // The two-person rule's notion of one human: two accounts with the same person count as one.
      const r = await setPerson(db, who, name, person ?? "");
      if (io.json) io.printJson({ username: name, person: r.person, previous: r.old, changed: r.old !== r.person });
      else if (r.old === r.person) io.print(`${name} is already ${r.person ?? "(their username)"}: nothing changed.`);
      else io.print(`${name} is now ${r.person ?? "(their username)"} for the two-person rule (was ${r.old ?? "(their username)"}).`);
      return 0;
    }
    // reset-password
    const temporary = values["password-stdin"] ? (await readStdin()).trim() : undefined;
    const r = await resetPassword(db, who, name, temporary);
    if (io.json) {
      io.printJson({
        username: r.username,
        mustChangePassword: true,
        changed: r.changed,
        sessionsEnded: r.sessionsEnded,
        ...(r.generated ? { password: r.password } : {}),
      });
    } else {
      io.print(
        `Reset the password of ${name}: it must be changed at the next sign-in.${r.generated ? ` Temporary password: ${r.password}` : ""}${ended(r.sessionsEnded)}`,
      );
    }
    return 0;
  } catch (e) {
    if (e instanceof AccountError) throw new InvalidInputError(e.message);
    throw e;
  }
}

/** Role names from repeated or comma-separated --role flags; unknown names and none at all are bad usage. */
function rolesOf(flags: string[] | undefined): string[] {
  try {
    return requireRoles((flags ?? []).flatMap((r) => r.split(",")).filter(Boolean));
  } catch (e) {
    throw new InvalidInputError(`${(e as Error).message} Give them with --role ROLE.`);
  }
}

function status(u: { disabled: boolean; deleted: boolean; mustChangePassword: boolean }): string {
  if (u.deleted) return "  (deleted)";
  return `${u.disabled ? "  (disabled)" : ""}${u.mustChangePassword ? "  (must change password)" : ""}`;
}

const ended = (n: number) => (n ? ` ${n} session(s) ended.` : "");

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
