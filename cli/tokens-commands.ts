import { existsSync } from "node:fs";
import { type Actor, databaseFile, openAudit } from "@/lib/audit";
import { createApiToken, listApiTokens, parseExpiry, revokeApiToken } from "@/lib/auth/api-tokens";
import { NotAuthorisedError } from "@/lib/approvals/errors";
import { can, type Role } from "@/lib/auth/roles";
import { InvalidInputError, resolveRoot } from "@/lib/registry";
import { readSettings } from "@/lib/settings/settings";
import { common, type Out, parse } from "./args";

const USAGE =
  "Usage: registry tokens create --name NAME --role ROLE [--expires 90d] [--user NAME --password-stdin] | list | revoke ID|NAME";

/**
 * `registry tokens create|list|revoke`: API tokens from a shell on the registry's machine. The OS user is
 * the actor (source "cli"), or the account named with --user (its password on standard input): a token
 * asks for changes on its maker's behalf, and under the two-person rule only a token an account made may
 * ask. A new token is printed once and never stored.
 */
export async function tokensCommand(args: string[], io: Out, osUser: string): Promise<number> {
  const [sub, ...rest] = args;
  const by: Actor = { name: osUser, role: "cli", source: "cli" };
  switch (sub) {
    case "create": {
      const { values } = parse(rest, {
        ...common,
        name: { type: "string" },
        role: { type: "string" },
        expires: { type: "string" },
        user: { type: "string" },
        "password-stdin": { type: "boolean" },
      });
      if (!values.name || !values.role) throw new InvalidInputError(`${USAGE}.`);
      const expiresInMs = parseExpiry(values.expires);
      const root = resolveRoot(values.root);
      const { accountFrom } = await import("./requests-commands");
      const maker = await accountFrom(root, values, io, osUser);
      if (maker && !maker.roles.includes("admin") && !maker.roles.includes(values.role as Role)) {
        throw new NotAuthorisedError("forbidden", `${maker.username} is not a ${values.role} or an admin: they cannot make a ${values.role} token.`);
      }
      const made: Actor = maker ? { name: maker.username, role: maker.roles.join(",") || "none", source: "cli" } : by;
      const db = openAudit(root);
      const created = await createApiToken(db, { name: values.name, role: values.role, expiresInMs, by: made });
      const rule = (await readSettings(db)).approvals.value;
      const warning =
        !maker && rule === "required" && can([created.role], "model.promote")
          ? "The two-person rule is on and this token was made by no account: it cannot ask for a promotion or rollback. Make it with --user NAME --password-stdin to ask on that person's behalf."
          : null;
      if (io.json) io.printJson({ ...created, ...(warning ? { warning } : {}) });
      else {
        io.print(`Token "${created.name}" (${created.role}), expires ${created.expiresAt}. It is shown once; keep it secret:`);
        io.print(created.token);
        if (warning) io.print(`! ${warning}`);
      }
      return 0;
    }
    case "list": {
      const { values } = parse(rest, common);
      const root = resolveRoot(values.root);
      // Listing a registry with no database yet creates none.
      const tokens = existsSync(databaseFile(root)) ? await listApiTokens(openAudit(root)) : [];
      if (io.json) io.printJson({ tokens });
      else if (tokens.length === 0) io.print("No API tokens.");
      else
        for (const t of tokens)
          io.print(
            `#${t.id} ${t.name.padEnd(20)} ${t.role.padEnd(9)} ${t.state.padEnd(8)} ${t.prefix}…  expires ${t.expiresAt ?? "never"}  last used ${t.lastUsedAt ?? "never"}`,
          );
      return 0;
    }
    case "revoke": {
      const { values, positionals } = parse(rest, common, 1);
      const which = positionals[0];
      if (!which) throw new InvalidInputError(`${USAGE}.`);
      const key = /^\d+$/.test(which) ? Number(which) : which;
      const revoked = await revokeApiToken(openAudit(resolveRoot(values.root)), key, by);
      if (io.json) io.printJson({ revoked });
      else io.print(`Revoked token #${revoked.id} "${revoked.name}": it no longer works.`);
      return 0;
    }
    default:
      throw new InvalidInputError(`${USAGE}.`);
  }
}
