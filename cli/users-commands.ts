import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { databaseFile, openAudit } from "@/lib/audit";
import { AccountError, createUser, listUsers, MIN_PASSWORD, type Role, requireRoles, setRoles, USERNAME } from "@/lib/auth";
import { InvalidInputError, RegistryError, resolveRoot } from "@/lib/registry";
import { common, type Out, parse } from "./args";

/** The account named on the command line does not exist. */
class UnknownAccountError extends RegistryError {
  override readonly code = "unknown_account";
  override readonly exitCode = 2;
  constructor(name: string) {
    super(`No account named "${name}". Run \`registry users list\` to see the accounts.`);
  }
}

const USAGE = "Run `registry users --help` for its usage.";
const withRoles = { ...common, role: { type: "string", multiple: true } } as const;

/**
 * `registry users add|list|roles`: accounts from a shell, e.g. the first admin on a new server. Every
 * argument is checked before the database is opened, so bad usage creates nothing; reading accounts
 * (list, roles) never creates a database that is not there yet.
 */
export async function usersCommand(args: string[], io: Out, actor: string): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "list": {
      const { values } = parse(rest, common);
      const root = resolveRoot(values.root);
      const users = existsSync(databaseFile(root)) ? await listUsers(openAudit(root)) : [];
      if (io.json) io.printJson({ users });
      else for (const u of users) io.print(`${u.username.padEnd(20)} ${u.roles.join(",")}${u.disabled ? "  (disabled)" : ""}`);
      return 0;
    }
    case "add": {
      const { values, positionals } = parse(rest, { ...withRoles, "password-stdin": { type: "boolean" } }, 1);
      const name = accountName(positionals[0], "add");
      const roles = rolesOf(values.role);
      const generated = !values["password-stdin"];
      const password = generated ? randomBytes(12).toString("base64url") : (await readStdin()).trim();
      if (password.length < MIN_PASSWORD) throw new InvalidInputError(`Passwords need at least ${MIN_PASSWORD} characters.`);
      const user = await accountCall(() =>
        createUser(openAudit(resolveRoot(values.root)), { username: name, password, roles, createdBy: actor }),
      );
      if (io.json) io.printJson({ username: user.username, roles: user.roles, ...(generated ? { password } : {}) });
      else io.print(`Created ${user.username} (${user.roles.join(", ")}).${generated ? ` Password: ${password}` : ""}`);
      return 0;
    }
    case "roles": {
      const { values, positionals } = parse(rest, withRoles, 1);
      const name = accountName(positionals[0], "roles");
      const roles = rolesOf(values.role);
      const root = resolveRoot(values.root);
      if (!existsSync(databaseFile(root))) throw new UnknownAccountError(name);
      const db = openAudit(root);
      if (!(await db.user.findUnique({ where: { username: name }, select: { id: true } }))) throw new UnknownAccountError(name);
      await accountCall(() => setRoles(db, name, roles));
      if (io.json) io.printJson({ username: name, roles });
      else io.print(`${name} now has ${roles.join(", ")}.`);
      return 0;
    }
    default:
      throw new InvalidInputError(
        `${sub === undefined ? "registry users needs add, list or roles." : `Unknown users command "${sub}".`} ${USAGE}`,
      );
  }
}

function accountName(name: string | undefined, sub: string): string {
  if (!name) throw new InvalidInputError(`registry users ${sub} needs an account name. ${USAGE}`);
  if (!USERNAME.test(name)) throw new InvalidInputError("Usernames are 2–40 letters, digits, '.', '_' or '-'.");
  return name;
}

/** Role names from repeated or comma-separated --role flags; unknown names and none at all are bad usage. */
function rolesOf(flags: string[] | undefined): Role[] {
  try {
    return requireRoles((flags ?? []).flatMap((r) => r.split(",")).filter(Boolean));
  } catch (e) {
    throw new InvalidInputError(`${(e as Error).message} Give them with --role ROLE.`);
  }
}

/** Account rules the database enforces (a taken name) are bad input, not an unexpected error. */
async function accountCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof AccountError) throw new InvalidInputError(e.message);
    throw e;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
