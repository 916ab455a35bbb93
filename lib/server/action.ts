import "server-only";
import type { z } from "zod";
import { describeIssues, errorForLog, type RejectionSummary, recordEvent, redactText, secretFieldNames, sentStrings } from "@/lib/audit";
import { flushRefusalsLater, recordRefusal } from "@/lib/audit/refusals";
import { can, type Permission, type SessionUser } from "@/lib/auth";
import { RegistryError } from "@/lib/registry";
import { type KeptValues, keptValues } from "@/lib/views/form-values";
import { clientAddress, currentUser, db } from "./session";

export type ActionResult<T> =
  | { ok: true; data: T }
  | { ok: false; error: string; code?: string; fieldErrors?: Record<string, string[] | undefined>; values?: KeptValues };

export type ActionInput = FormData | Record<string, unknown>;

// Refused attempts at these are evidence an auditor needs; refused reads are only refused.
const AUDITED: ReadonlySet<Permission> = new Set(["model.promote", "users.manage", "audit.export", "webhooks.manage"]);
const MAX_FIELD = 10_000;

/**
 * The one way this app defines a server action. Every call, from our forms or from anyone who can POST:
 * reads the session, checks `permission` (refusals of changes are written to the audit log), validates
 * the input with `schema`, and returns a tagged result instead of throwing. A server action is a public
 * endpoint: TypeScript parameter types are not validation.
 */
export function defineAction<S extends z.ZodType, T>(
  name: string,
  permission: Permission,
  schema: S,
  handler: (input: z.output<S>, ctx: { user: SessionUser }) => Promise<ActionResult<T>>,
): (prev: unknown, input: ActionInput) => Promise<ActionResult<T>> {
  const secretFields = secretFieldNames(schema);
  const action = async (_prev: unknown, input: ActionInput): Promise<ActionResult<T>> => {
    const auth = await authorize(name, permission);
    if (!auth.ok) {
      return {
        ok: false,
        code: auth.code,
        error: auth.code === "forbidden" ? `Your role does not allow this (${permission}).` : "Sign in first.",
      };
    }
    const user = auth.user;
    const raw = toObject(input);
    // What was sent in a secret field (marked secret() or named like one) stays out of every message and log line.
    const secrets = sentStrings(raw, secretFields);
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      // A malformed request to change something is evidence too (a probe, a broken client): keep it, as
      // field names and messages that quote nothing that was sent.
      if (AUDITED.has(permission)) await auditRejected(name, permission, user, describeIssues(schema, raw, parsed.error, sentStrings(raw)));
      // The sender is told what is wrong with their input, but never shown a secret back.
      const { fieldErrors } = describeIssues(schema, raw, parsed.error, secrets);
      return { ok: false, code: "invalid_input", error: "Some fields need attention.", fieldErrors, values: keptValues(raw, secretFields) };
    }
    // A refused or failed call hands back what was typed (never a secret), so the form can keep it.
    const keep = <R extends ActionResult<T>>(r: R): R => (r.ok || r.values ? r : { ...r, values: keptValues(raw, secretFields) });
    try {
      return keep(await handler(parsed.data, { user }));
    } catch (e) {
      const withheld = [...secrets, ...sentStrings(toRecord(parsed.data), secretFields)];
      if (e instanceof RegistryError) return keep({ ok: false, code: e.code, error: redactText(e.message, withheld) });
      console.error(`action ${name} failed: ${errorForLog(e, withheld)}`);
      return keep({
        ok: false,
        code: "unexpected",
        error: "Something went wrong on the server; nothing was changed. The error is in the server log.",
      });
    }
  };
  defined.set(name, { action: action as DefinedAction["action"], permission, schema });
  return action;
}

export interface DefinedAction {
  action: (prev: unknown, input: ActionInput) => Promise<ActionResult<unknown>>;
  permission: Permission;
  schema: z.ZodType;
}
const defined = new Map<string, DefinedAction>();

/** Every action defined so far, by name: what a test sweeps to prove no action can log a secret. */
export function definedActions(): ReadonlyMap<string, DefinedAction> {
  return defined;
}

/** The signed-in user holding `permission`; a refusal of an audited permission is written to the log. */
async function authorize(
  name: string,
  permission: Permission,
): Promise<{ ok: true; user: SessionUser } | { ok: false; code: "unauthenticated" | "forbidden" }> {
  const user = await currentUser();
  if (user && can(user.roles, permission)) return { ok: true, user };
  const why = user ? `${user.username} (${user.roles.join(", ") || "no role"}) may not ${permission}` : "not signed in";
  if (AUDITED.has(permission)) await auditDenied(name, permission, user, why);
  return { ok: false, code: user ? "forbidden" : "unauthenticated" };
}

// Anyone can cause a refusal, so they are counted per minute rather than chained one per request: the
// first few of a minute (one per address when nobody is signed in, five per person) are chained at once,
// the rest as one summary row with their count once the minute has closed (lib/audit/refusals.ts).
async function auditDenied(name: string, permission: Permission, user: SessionUser | null, why: string): Promise<void> {
  const database = db();
  await recordRefusal(database, {
    kind: "auth.denied",
    user: user ? { name: user.username, role: user.roles.join(",") || "none" } : null,
    address: await clientAddress(),
    action: name,
    reason: `Refused ${name}: ${why}.`,
    details: { permission },
  });
  flushRefusalsLater(database);
}

async function auditRejected(name: string, permission: Permission, user: SessionUser, summary: RejectionSummary): Promise<void> {
  // Field names and messages only: a value sent by mistake (a password in a refused form) must not
  // become a permanent, chained line every viewer can read.
  await recordEvent(
    db(),
    { name: user.username, role: user.roles.join(","), source: "web" },
    {
      action: "request.rejected",
      outcome: "refused",
      reason: `Refused ${name}: invalid input (${Object.keys(summary.fieldErrors).join(", ") || "form"}).`,
      details: { action: name, permission, ...summary },
    },
  );
}

function toRecord(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" ? (v as Record<string, unknown>) : {};
}

/** FormData to a plain object; repeated keys become arrays; oversized fields are cut so zod refuses them. */
function toObject(input: ActionInput): Record<string, unknown> {
  if (!(input instanceof FormData)) return input && typeof input === "object" ? input : {};
  const out: Record<string, unknown> = {};
  for (const key of new Set(input.keys())) {
    if (key.startsWith("$ACTION")) continue;
    const values = input.getAll(key).map((v) => (typeof v === "string" ? v.slice(0, MAX_FIELD + 1) : ""));
    out[key] = values.length > 1 ? values : values[0];
  }
  return out;
}

/**
 * The route-handler twin of defineAction: authenticates and authorises inside the handler (never only in
 * proxy.ts), audits refused attempts at audited permissions, and answers 401/403 as JSON.
 */
export function defineRoute(
  name: string,
  permission: Permission,
  handler: (req: Request, ctx: { user: SessionUser }) => Promise<Response>,
) {
  return async (req: Request): Promise<Response> => {
    const auth = await authorize(name, permission);
    if (!auth.ok) return Response.json({ error: auth.code }, { status: auth.code === "forbidden" ? 403 : 401 });
    return handler(req, { user: auth.user });
  };
}
