// The registry's trust list: exact module.name pairs an admin allows in model files beyond the inspector's
// built-in allowlist (a team's own transformer classes). Stored in the database, every change audited with
// its reason; handed to the inspector as data (lib/inspect imports nothing from here).
import { z } from "zod";
import { type AuditDb, databaseExists, openAudit } from "@/lib/audit/db";
import type { Actor } from "@/lib/audit/events";
import { recordEvent } from "@/lib/audit/log";
import { classifyGlobal } from "@/lib/inspect/allowlist";
import type { InspectionPolicy } from "@/lib/inspect/types";
import { InvalidInputError, RefusedError } from "@/lib/registry/errors";

export interface TrustEntry {
  path: string;
  module: string;
  name: string;
  reason: string;
  addedBy: string;
  addedAt: string;
}

const IDENTIFIER = "[A-Za-z_][A-Za-z0-9_]*";

/** A module.name pair as typed: Python identifiers joined by dots, at least module and name; no wildcard. */
export const trustedPathSchema = z
  .string()
  .trim()
  .max(200, "At most 200 characters.")
  .regex(
    new RegExp(`^${IDENTIFIER}(\\.${IDENTIFIER})+$`),
    "An exact module.name, e.g. acme_features.Winsorizer: no wildcards, no prefixes.",
  );

export const trustReasonSchema = z.string().trim().min(3, "Say why, in a few words: it goes into the audit log.").max(2000);

/** The trust list has no entry by that name. */
export class UnknownTrustError extends InvalidInputError {}

/** Splits "a.b.C" into module "a.b" and name "C" (the name pickle's find_class would look up). Pure. */
export function splitPath(path: string): { module: string; name: string } {
  const dot = path.lastIndexOf(".");
  return { module: path.slice(0, dot), name: path.slice(dot + 1) };
}

/**
 * Why a pair cannot be trusted, or null. Pure. The deny list (modules and names that run code) is final:
 * nobody can trust os.system or builtins.eval; a dunder part reaches interpreter internals; a pair already
 * on the built-in allowlist needs no trust.
 */
export function whyUntrustable(path: string): string | null {
  const { module, name } = splitPath(path);
  if (path.split(".").some((part) => part.startsWith("__")))
    return `${path} names a dunder attribute: it reaches interpreter internals and can never be trusted.`;
  const status = classifyGlobal(module, name);
  if (status === "dangerous")
    return `${path} is on the inspector's deny list (it can run code, read or write files, or reach the network): nobody can trust it.`;
  if (status === "allowed") return `${path} is already on the built-in allowlist: there is nothing to trust.`;
  return null;
}

/** Every trusted pair, sorted. Reads only. */
export async function listTrusted(db: AuditDb): Promise<TrustEntry[]> {
  return db.trustedGlobal.findMany({ orderBy: { path: "asc" } });
}

/** The trust list as the inspector takes it. Reads only. */
export async function trustPolicy(db: AuditDb): Promise<InspectionPolicy> {
  const rows = await listTrusted(db);
  return { trusted: rows.map((r) => ({ module: r.module, name: r.name, by: r.addedBy, at: r.addedAt })) };
}

/**
 * The trust list of a registry for the CLI: empty when the registry has no database yet (reading it never
 * creates one). Reads only.
 */
export async function trustPolicyOf(root: string): Promise<InspectionPolicy> {
  if (!databaseExists(root)) return { trusted: [] };
  return trustPolicy(openAudit(root));
}

/**
 * Adds an exact pair to the trust list and audits it as `trust.added` with the reason. Refuses (and audits as
 * `trust.change_refused`) a pair on the deny list or already allowed; throws InvalidInputError for a
 * malformed name or reason. Adding a pair already trusted changes nothing and records nothing.
 */
export async function addTrusted(
  db: AuditDb,
  actor: Actor,
  pathText: string,
  reasonText: string,
): Promise<{ added: boolean; entry: TrustEntry }> {
  const path = parseOrThrow(trustedPathSchema, pathText, "module.name");
  const reason = parseOrThrow(trustReasonSchema, reasonText, "reason");
  const why = whyUntrustable(path);
  if (why) {
    await recordEvent(db, actor, {
      action: "trust.change_refused",
      outcome: "refused",
      reason: why,
      details: { path, requested: "add", because: reason },
    });
    throw new RefusedError(why);
  }
  const existing = await db.trustedGlobal.findUnique({ where: { path } });
  if (existing) return { added: false, entry: existing };
  const entry: TrustEntry = { path, ...splitPath(path), reason, addedBy: actor.name, addedAt: new Date().toISOString() };
  await db.trustedGlobal.create({ data: entry });
  await recordEvent(db, actor, {
    action: "trust.added",
    outcome: "succeeded",
    reason: `Trusted ${path} in model files: ${reason}`,
    details: { path, module: entry.module, name: entry.name },
  });
  return { added: true, entry };
}

/**
 * Removes a pair from the trust list and audits it as `trust.removed` with the reason; from then on a model
 * importing it is unsafe again (the inspection cache is keyed by the list's content). Throws
 * UnknownTrustError when the pair is not on the list.
 */
export async function removeTrusted(db: AuditDb, actor: Actor, pathText: string, reasonText: string): Promise<TrustEntry> {
  const path = parseOrThrow(trustedPathSchema, pathText, "module.name");
  const reason = parseOrThrow(trustReasonSchema, reasonText, "reason");
  const existing = await db.trustedGlobal.findUnique({ where: { path } });
  if (!existing) throw new UnknownTrustError(`${path} is not on the trust list. Run \`registry trust list\` to see it.`);
  await db.trustedGlobal.delete({ where: { path } });
  await recordEvent(db, actor, {
    action: "trust.removed",
    outcome: "succeeded",
    reason: `No longer trusted: ${path}: ${reason}`,
    details: { path, addedBy: existing.addedBy, addedAt: existing.addedAt, addedBecause: existing.reason },
  });
  return existing;
}

function parseOrThrow<T>(schema: z.ZodType<T>, value: string, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InvalidInputError(`${what}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}
