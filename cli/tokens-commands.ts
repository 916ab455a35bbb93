import { existsSync } from "node:fs";
import { type Actor, databaseFile, openAudit } from "@/lib/audit";
import { createApiToken, listApiTokens, parseExpiry, revokeApiToken } from "@/lib/auth/api-tokens";
import { InvalidInputError, resolveRoot } from "@/lib/registry";
import { common, type Out, parse } from "./args";

const USAGE = "Usage: registry tokens create --name NAME --role ROLE [--expires 90d] | list | revoke ID|NAME";

/**
 * `registry tokens create|list|revoke`: API tokens from a shell on the registry's machine. The OS user is
 * the actor (source "cli"); a new token is printed once and never stored.
 */
export async function tokensCommand(args: string[], io: Out, osUser: string): Promise<number> {
  const [sub, ...rest] = args;
  const by: Actor = { name: osUser, role: "cli", source: "cli" };
  switch (sub) {
    case "create": {
      const { values } = parse(rest, { ...common, name: { type: "string" }, role: { type: "string" }, expires: { type: "string" } });
      if (!values.name || !values.role) throw new InvalidInputError(`${USAGE}.`);
      const expiresInMs = parseExpiry(values.expires);
      const created = await createApiToken(openAudit(resolveRoot(values.root)), { name: values.name, role: values.role, expiresInMs, by });
      if (io.json) io.printJson(created);
      else {
        io.print(`Token "${created.name}" (${created.role}), expires ${created.expiresAt}. It is shown once; keep it secret:`);
        io.print(created.token);
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
