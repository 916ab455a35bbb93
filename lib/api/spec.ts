import { z } from "zod";
import type { Permission } from "@/lib/auth/roles";
import { CHECK_NAMES } from "@/lib/registry/checks";
import { validateVersionName } from "@/lib/registry/names";
import { CURSOR_PATTERN, decodeVersionCursor, VERSION_SORTS } from "./cursor";

// The HTTP API (/api/v1) as data: each endpoint's method, path, permission and input schema. The route
// handlers validate with these schemas (lib/server/api-route.ts) and the OpenAPI document is generated
// from them (lib/api/openapi.ts), so the document cannot drift from what the handlers accept.

/** A version name as the dashboard's actions take it: the file stem, checked by the registry's own rule. */
export const versionName = z
  .string()
  .max(250)
  .transform((s, ctx) => {
    try {
      return validateVersionName(s);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
      return z.NEVER;
    }
  });

/** The reason a change goes into the audit log with (as the dashboard asks for it). */
export const changeReason = z.string().trim().min(3, "Say why, in a few words: it goes into the audit log.").max(2000);

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "A sha256 in lower-case hex (64 characters).");
const override = z.object({ check: z.enum(CHECK_NAMES), reason: changeReason }).strict();

export const promotionBody = z
  .object({
    /** Omitted: the best version. */
    version: versionName.optional(),
    dryRun: z.boolean().optional(),
    /** Required unless dryRun. */
    reason: changeReason.optional(),
    overrides: z.array(override).max(CHECK_NAMES.length).optional(),
    /** The production sha256 the caller expects (null: no production): 409 when it changed meanwhile. */
    expectedProductionSha256: sha256.nullable().optional(),
    minScore: z.number().min(0).max(1).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.dryRun && !v.reason)
      ctx.addIssue({ code: "custom", path: ["reason"], message: "A change needs a reason: it goes into the audit log." });
  });

export const rollbackBody = z
  .object({
    to: versionName.optional(),
    previous: z.literal(true).optional(),
    dryRun: z.boolean().optional(),
    reason: changeReason.optional(),
    expectedProductionSha256: sha256.nullable().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.to === undefined) === (v.previous === undefined)) {
      ctx.addIssue({ code: "custom", path: ["to"], message: "Name the version with `to`, or ask for `previous: true` (one of the two)." });
    }
    if (!v.dryRun && !v.reason)
      ctx.addIssue({ code: "custom", path: ["reason"], message: "A change needs a reason: it goes into the audit log." });
  });

export { VERSION_SORTS };
export const MAX_PAGE = 1000;
const NOT_OURS = "Not a cursor this API gave out: pass the nextCursor of the page before, unchanged.";

export const versionsQuery = z
  .object({
    sort: z.enum(VERSION_SORTS).default("trainedAt"),
    dir: z.enum(["asc", "desc"]).default("desc"),
    /** Matched case-insensitively against names, model types, metrics, commits and data versions. */
    q: z.string().trim().max(200).default(""),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(100),
    cursor: z
      .string()
      .regex(CURSOR_PATTERN, NOT_OURS)
      .describe(
        "Opaque: the nextCursor of the page before, with the same sort and dir. It marks the last version seen, so " +
          "versions written between two pages are never skipped or repeated. A plain number (as cursors were before) is still read as a position.",
      )
      .transform((s, ctx) => {
        const cursor = decodeVersionCursor(s);
        if (!cursor) {
          ctx.addIssue({ code: "custom", message: NOT_OURS });
          return z.NEVER;
        }
        return cursor;
      })
      .optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    // A key means something only in its own order.
    if (v.cursor?.kind === "after" && (v.cursor.sort !== v.sort || v.cursor.dir !== v.dir)) {
      ctx.addIssue({
        code: "custom",
        path: ["cursor"],
        message: "This cursor continues another order: ask with the sort and dir of the page it came from, or start again without one.",
      });
    }
  });

export const versionParams = z.object({ stem: versionName }).strict();

const instant = z.iso.datetime({ offset: true });
export const auditQuery = z
  .object({
    action: z.string().max(100).optional(),
    actor: z.string().max(120).optional(),
    /** Events naming this version as from or to. */
    version: z.string().max(250).optional(),
    from: instant.optional(),
    to: instant.optional(),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(50),
    cursor: z
      .string()
      .regex(/^\d{1,12}$/, "Not a cursor this API gave out: pass the nextCursor of the page before, unchanged.")
      .describe(
        "Opaque: the nextCursor of the page before. It marks the last event seen (the log is append-only and listed newest " +
          "first), so events appended between two pages are never skipped or repeated.",
      )
      .optional(),
  })
  .strict();

export const noInput = z.object({}).strict();

export interface Endpoint {
  /** Our name for it: the audit log's `action` of a refused call, and the OpenAPI operationId. */
  name: string;
  method: "GET" | "POST";
  /** OpenAPI path, with {params}. */
  path: string;
  permission: Permission;
  summary: string;
  /** Where the input comes from, and its schema. */
  input: { from: "query" | "body" | "none"; schema: z.ZodType };
  params?: z.ZodObject;
  /** Statuses besides the error ones every endpoint may answer (400, 401, 403, 429). */
  statuses: Record<number, string>;
}

export const ENDPOINTS = {
  production: {
    name: "api.production",
    method: "GET",
    path: "/api/v1/production",
    permission: "registry.read",
    summary: "What is in production: version, sha256, score, alias state, since when and by whom (from the audit log).",
    input: { from: "none", schema: noInput },
    statuses: { 200: "Production." },
  },
  versions: {
    name: "api.versions",
    method: "GET",
    path: "/api/v1/versions",
    permission: "registry.read",
    summary: "A page of versions, with the fields of `registry list --json`; follow nextCursor for the next page.",
    input: { from: "query", schema: versionsQuery },
    statuses: { 200: "A page of versions." },
  },
  version: {
    name: "api.version",
    method: "GET",
    path: "/api/v1/versions/{stem}",
    permission: "registry.read",
    summary: "One version, its metrics and its readiness checks against production (as `registry show --json`).",
    input: { from: "none", schema: noInput },
    params: versionParams,
    statuses: { 200: "The version.", 404: "No such version." },
  },
  promotions: {
    name: "api.promote",
    method: "POST",
    path: "/api/v1/promotions",
    permission: "model.promote",
    summary: "Promote a version (or the best) into production, as `registry promote --json` does.",
    input: { from: "body", schema: promotionBody },
    statuses: {
      200: "Promoted, nothing to do, or a dry run.",
      202: "Filed as a request for a second releaser (two-person rule).",
      404: "No such version.",
      409: "Production changed meanwhile (expectedProductionSha256), or the target changed on disk.",
      422: "Refused by a readiness check; `result` holds the plan.",
    },
  },
  rollbacks: {
    name: "api.rollback",
    method: "POST",
    path: "/api/v1/rollbacks",
    permission: "model.promote",
    summary: "Roll back to a version that was live before (or the previous production), as `registry rollback --json` does.",
    input: { from: "body", schema: rollbackBody },
    statuses: {
      200: "Rolled back, nothing to do, or a dry run.",
      202: "Filed as a request for a second releaser (two-person rule).",
      404: "No such version.",
      409: "Production changed meanwhile.",
      422: "Refused (never live, or a readiness check); `result` holds the plan.",
    },
  },
  audit: {
    name: "api.audit",
    method: "GET",
    path: "/api/v1/audit",
    permission: "audit.export",
    summary: "Audit events, newest first, with filters; follow nextCursor for older ones.",
    input: { from: "query", schema: auditQuery },
    statuses: { 200: "A page of events." },
  },
  auditVerify: {
    name: "api.audit_verify",
    method: "GET",
    path: "/api/v1/audit/verify",
    permission: "audit.read",
    summary: "Verify the audit log's hash chain (as `registry audit verify --json`).",
    input: { from: "none", schema: noInput },
    statuses: { 200: "The chain's report (ok false when broken)." },
  },
} as const satisfies Record<string, Endpoint>;
