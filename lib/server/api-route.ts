import "server-only";
import type { z } from "zod";
import { statusOf } from "@/lib/api/errors";
import type { Endpoint } from "@/lib/api/spec";
import { apiRateLimit, RateLimiter } from "@/lib/api/rate-limit";
import { type Actor, type AuditDb, describeIssues, errorForLog, openAudit, recordEvent, sentStrings } from "@/lib/audit";
import { flushRefusalsLater, type Refusal, recordRefusal } from "@/lib/audit/refusals";
import { type BearerCheck, tokenForBearer } from "@/lib/auth/api-tokens";
import { addressBucket } from "@/lib/auth/client-address.mjs";
import { vettedClientAddress } from "@/lib/auth/vetted-request.mjs";
import { can, type Role } from "@/lib/auth/roles";
import { chargeAttempt, signInPolicy } from "@/lib/auth/throttle";
import { RegistryError } from "@/lib/registry";
import { registryRoot } from "./registry";

// The route-handler twin of defineAction for the HTTP API: a bearer token (never a cookie) is checked inside
// every handler, then its role's permission, then the input against the endpoint's zod schema; registry
// errors become statuses in one place. Every refusal is audited through the aggregated refusal log.

export interface ApiContext {
  token: { id: number; name: string; role: Role; createdBy: string };
  /** The token's name as the audit actor, with its role and source "api". */
  actor: Actor;
  address: string;
  db: AuditDb;
  root: string;
}

type Handler<S extends z.ZodType> = (input: z.output<S>, ctx: ApiContext, params: Record<string, unknown>) => Promise<Response>;
type RouteContext = { params?: Promise<Record<string, string | string[]>> };

// Far more than any body of ours needs; a larger one is refused unread.
const BODY_LIMIT = 64 * 1024;
// One limiter per database in this process; the counts themselves live in the database (ApiRateWindow).
const g = globalThis as unknown as { __apiLimiters?: WeakMap<AuditDb, RateLimiter> };

/** A JSON answer with the API's error shape. */
export function apiError(
  status: number,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
  headers?: HeadersInit,
): Response {
  return Response.json({ error: { code, message }, ...extra }, { status, headers });
}

/**
 * Defines one API route for `endpoint` (lib/api/spec.ts). For every request: refuses an address that sent
 * too many bad tokens (429), authenticates the bearer token (401), counts the token's requests (429),
 * checks its role's permission (403), parses path, query or JSON body with the endpoint's schema (400), runs
 * the handler and maps a RegistryError to its status. Session cookies are never read here.
 */
export function defineApiRoute<E extends Endpoint>(endpoint: E, handler: Handler<E["input"]["schema"]>) {
  return async (req: Request, route: RouteContext = {}): Promise<Response> => {
    // The address our server set (a bare `next start` sets none: then every client is "unknown").
    const address = vettedClientAddress((name) => req.headers.get(name));
    const root = registryRoot();
    const db = openAudit(root);
    const auth = await authenticate(db, req, endpoint, address);
    if (auth instanceof Response) return auth;
    const ctx: ApiContext = { token: auth, actor: { name: auth.name, role: auth.role, source: "api" }, address, db, root };
    const refused = await gate(db, endpoint, auth, address);
    if (refused) return refused;
    const input = await inputOf(req, endpoint, route);
    if (input instanceof Response) return input;
    const params = endpoint.params ? endpoint.params.safeParse(input.params) : { success: true as const, data: {} };
    if (!params.success && endpoint.params) return rejected(ctx, endpoint, endpoint.params, input.params, params.error);
    const parsed = endpoint.input.schema.safeParse(input.raw);
    if (!parsed.success) return rejected(ctx, endpoint, endpoint.input.schema, input.raw, parsed.error);
    try {
      return await handler(parsed.data as z.output<E["input"]["schema"]>, ctx, params.data as Record<string, unknown>);
    } catch (e) {
      if (e instanceof RegistryError) return apiError(statusOf(e), e.code, e.message);
      console.error(`api ${endpoint.name} failed: ${errorForLog(e, sentStrings(input.raw))}`);
      return apiError(500, "unexpected", "Something went wrong on the server; nothing was changed. The error is in the server log.");
    }
  };
}

/** The token's rate limit (429) and its role's permission (403), each refusal audited; null when both allow. */
async function gate(db: AuditDb, endpoint: Endpoint, auth: ApiContext["token"], address: string): Promise<Response | null> {
  g.__apiLimiters ??= new WeakMap();
  let limited = g.__apiLimiters.get(db);
  if (!limited) {
    limited = new RateLimiter(db, apiRateLimit());
    g.__apiLimiters.set(db, limited);
  }
  const taken = await limited.take(`token:${auth.id}`, Date.now());
  if (!taken.ok) {
    await refuse(db, {
      kind: "api.rate_limited",
      user: auth,
      address,
      action: endpoint.name,
      reason: `Refused ${endpoint.name}: token "${auth.name}" is over its rate limit (${limited.limit} a minute).`,
    });
    const seconds = Math.ceil(taken.retryAfterMs / 1000);
    return apiError(
      429,
      "rate_limited",
      `Too many requests for this token: try again in ${seconds} s.`,
      {},
      { "Retry-After": String(seconds) },
    );
  }
  if (!can([auth.role], endpoint.permission)) {
    await refuse(db, {
      kind: "auth.denied",
      user: auth,
      address,
      action: endpoint.name,
      reason: `Refused ${endpoint.name}: token "${auth.name}" (${auth.role}) may not ${endpoint.permission}.`,
      details: { permission: endpoint.permission },
    });
    return apiError(403, "forbidden", `This token's role (${auth.role}) does not allow this (${endpoint.permission}).`);
  }
  return null;
}

const UNAUTHENTICATED: Record<Exclude<BearerCheck, { ok: true }>["why"], string> = {
  missing: "Send an API token: Authorization: Bearer mrt_…",
  malformed: "The Authorization header does not hold an API token (Bearer mrt_…).",
  unknown: "This API token is not recognised.",
  revoked: "This API token was revoked.",
  expired: "This API token has expired.",
};

/** The token of the request, or the 401/429 answer (after counting a bad token against the address). */
async function authenticate(db: AuditDb, req: Request, endpoint: Endpoint, address: string): Promise<ApiContext["token"] | Response> {
  const key = `api:${addressBucket(address)}`;
  const policy = signInPolicy();
  const now = Date.now();
  const waiting = await db.loginThrottle.findUnique({ where: { key }, select: { until: true } });
  if (waiting && Number(waiting.until) > now) return throttled(db, endpoint, address, Number(waiting.until) - now);
  const check = await tokenForBearer(db, req.headers.get("authorization"));
  if (check.ok) return check.token;
  // A token that is wrong counts against the address, as a wrong password does (lib/auth/throttle.ts).
  if (check.why !== "missing") {
    const charged = await chargeAttempt(db, [{ key, backoff: policy.address }], now, policy.forgetMs);
    if (!charged.ok) return throttled(db, endpoint, address, charged.waitMs);
  }
  await refuse(db, {
    kind: "auth.denied",
    user: check.token ?? null,
    address,
    action: endpoint.name,
    reason: `Refused ${endpoint.name}: ${check.token ? `token "${check.token.name}" is ${check.why}` : `${check.why} API token`}.`,
    details: { permission: endpoint.permission, token: check.why },
  });
  return apiError(401, "unauthenticated", UNAUTHENTICATED[check.why], {}, { "WWW-Authenticate": 'Bearer realm="registry"' });
}

async function throttled(db: AuditDb, endpoint: Endpoint, address: string, waitMs: number): Promise<Response> {
  const seconds = Math.ceil(waitMs / 1000);
  await refuse(db, {
    kind: "api.rate_limited",
    user: null,
    address,
    action: endpoint.name,
    reason: `Refused ${endpoint.name}: too many bad API tokens from this address.`,
  });
  return apiError(
    429,
    "rate_limited",
    `Too many requests with a bad API token from your address: try again in ${seconds} s.`,
    {},
    { "Retry-After": String(seconds) },
  );
}

async function refuse(db: AuditDb, refusal: Refusal): Promise<void> {
  await recordRefusal(db, { ...refusal, source: "api" });
  flushRefusalsLater(db);
}

/** The raw input (query parameters or the JSON body) and path parameters, or a 400 answer. */
async function inputOf(
  req: Request,
  endpoint: Endpoint,
  route: RouteContext,
): Promise<{ raw: Record<string, unknown>; params: Record<string, unknown> } | Response> {
  const params = (await route.params) ?? {};
  if (endpoint.input.from === "query") return { raw: Object.fromEntries(new URL(req.url).searchParams), params };
  if (endpoint.input.from === "none") return { raw: {}, params };
  if (!/^application\/json\b/i.test(req.headers.get("content-type") ?? "")) {
    return apiError(400, "invalid_input", "Send the body as JSON (Content-Type: application/json).");
  }
  if (Number(req.headers.get("content-length") ?? 0) > BODY_LIMIT) return apiError(400, "invalid_input", "The body is too large.");
  const text = await req.text();
  if (text.length > BODY_LIMIT) return apiError(400, "invalid_input", "The body is too large.");
  try {
    const raw: unknown = JSON.parse(text);
    if (raw && typeof raw === "object" && !Array.isArray(raw)) return { raw: raw as Record<string, unknown>, params };
  } catch {
    // Answered below.
  }
  return apiError(400, "invalid_input", "The body is not a JSON object.");
}

/** 400 with what is wrong, by field; a refused change is recorded (field names and messages only). */
async function rejected(
  ctx: ApiContext,
  endpoint: Endpoint,
  schema: z.ZodType,
  raw: Record<string, unknown>,
  error: z.ZodError,
): Promise<Response> {
  const summary = describeIssues(schema, raw, error, sentStrings(raw));
  if (endpoint.method === "POST") {
    await recordEvent(ctx.db, ctx.actor, {
      action: "request.rejected",
      outcome: "refused",
      reason: `Refused ${endpoint.name}: invalid input (${Object.keys(summary.fieldErrors).join(", ") || "body"}).`,
      details: { action: endpoint.name, permission: endpoint.permission, ...summary },
    });
  }
  return apiError(400, "invalid_input", "Some fields need attention.", {
    fieldErrors: summary.fieldErrors,
    ...(summary.formErrors ? { formErrors: summary.formErrors } : {}),
  });
}
