import { randomBytes } from "node:crypto";
import { openAudit } from "@/lib/audit";
import { AccountError, createUser, listUsers, setRoles } from "@/lib/auth";
import { InvalidInputError, resolveRoot } from "@/lib/registry";
import { common, type Out, parse } from "./args";

/** `registry users add|list|roles`: accounts from a shell, e.g. the first admin on a new server. */
export async function usersCommand(args: string[], io: Out, actor: string): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(
    rest,
    { ...common, role: { type: "string", multiple: true }, "password-stdin": { type: "boolean" } },
    1,
  );
  const db = openAudit(resolveRoot(values.root));
  const roles = (values.role ?? []).flatMap((r) => r.split(","));
  try {
    if (sub === "list") {
      const users = await listUsers(db);
      if (io.json) io.printJson({ users });
      else for (const u of users) io.print(`${u.username.padEnd(20)} ${u.roles.join(",")}${u.disabled ? "  (disabled)" : ""}`);
      return 0;
    }
    const name = positionals[0];
    if (!name) throw new InvalidInputError(`Usage: registry users ${sub ?? "add|roles"} NAME --role ROLE`);
    if (sub === "add") {
      const generated = !values["password-stdin"];
      const password = generated ? randomBytes(12).toString("base64url") : (await readStdin()).trim();
      const user = await createUser(db, { username: name, password, roles, createdBy: actor });
      if (io.json) io.printJson({ username: user.username, roles: user.roles, ...(generated ? { password } : {}) });
      else io.print(`Created ${user.username} (${user.roles.join(", ")}).${generated ? ` Password: ${password}` : ""}`);
      return 0;
    }
    if (sub === "roles") {
      await setRoles(db, name, roles);
      io.print(`${name} now has ${roles.join(", ")}.`);
      return 0;
    }
    throw new InvalidInputError("Usage: registry users add|list|roles (see `registry --help`).");
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
