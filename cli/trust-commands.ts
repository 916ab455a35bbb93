import { type Actor, databaseExists, openAudit } from "@/lib/audit";
import { InvalidInputError, resolveRoot } from "@/lib/registry";
import { addTrusted, listTrusted, removeTrusted, trustedPathSchema, trustReasonSchema, UnknownTrustError } from "@/lib/trust/trust-list";
import { common, type Out, parse } from "./args";

const USAGE = 'registry trust add|remove MODULE.NAME --reason "…" | registry trust list [--json]';

/**
 * `registry trust add|remove|list`: the registry's trust list of in-house classes from a shell. Every change is
 * audited with its reason and the OS user as the actor (source "cli"). Arguments are checked before the
 * database is opened; listing a registry with no database creates none.
 */
export async function trustCommand(args: string[], io: Out, actor: string): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, { ...common, reason: { type: "string" } }, sub === "list" ? 0 : 1);
  const root = resolveRoot(values.root);
  if (sub === "list") {
    if (values.reason !== undefined) throw new InvalidInputError("registry trust list takes no --reason.");
    const entries = databaseExists(root) ? await listTrusted(openAudit(root)) : [];
    if (io.json) io.printJson({ trusted: entries });
    else if (entries.length === 0) io.print("The trust list is empty: only the built-in allowlist applies.");
    else for (const e of entries) io.print(`${e.path.padEnd(48)} by ${e.addedBy} at ${e.addedAt}: ${e.reason}`);
    return 0;
  }
  if (sub !== "add" && sub !== "remove") throw new InvalidInputError(`Usage: ${USAGE}`);
  const path = trustedPathSchema.safeParse(positionals[0] ?? "");
  if (!path.success) throw new InvalidInputError(`${path.error.issues[0]?.message ?? "Name a module.name."} Usage: ${USAGE}`);
  const reason = trustReasonSchema.safeParse(values.reason ?? "");
  if (!reason.success) throw new InvalidInputError(`--reason: ${reason.error.issues[0]?.message ?? "required"}`);
  const who: Actor = { name: actor, role: "cli", source: "cli" };
  if (sub === "remove" && !databaseExists(root)) throw new UnknownTrustError(`${path.data} is not on the trust list.`);
  const db = openAudit(root);
  if (sub === "add") {
    const { added, entry } = await addTrusted(db, who, path.data, reason.data);
    if (io.json) io.printJson({ added, trusted: entry });
    else
      io.print(
        added ? `Trusted ${entry.path} in model files.` : `${entry.path} was already trusted (by ${entry.addedBy}): nothing changed.`,
      );
    return 0;
  }
  const removed = await removeTrusted(db, who, path.data, reason.data);
  if (io.json) io.printJson({ removed: true, trusted: removed });
  else io.print(`No longer trusted: ${removed.path}. Model files importing it are unsafe again.`);
  return 0;
}
