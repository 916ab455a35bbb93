import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { encodeVersionCursor } from "./cursor";
import { inputSchema, openApiDocument } from "./openapi";
import { ENDPOINTS, type Endpoint } from "./spec";

// The document is generated from the schemas the handlers parse with; these tests prove (1) every route
// file under app/api/v1 binds the endpoint the document describes at its path and method, and (2) for a
// range of inputs, the document's JSON Schema and the handler's zod schema agree on what is accepted.

const API = resolve(__dirname, "../../app/api/v1");
type Doc = { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>> };
const doc = openApiDocument() as Doc;
const endpoints = Object.entries(ENDPOINTS) as [keyof typeof ENDPOINTS, Endpoint][];

function routeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? routeFiles(join(dir, d.name)) : d.name === "route.ts" ? [join(dir, d.name)] : [],
  );
}

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1 and lists every endpoint at its path and method", () => {
    expect(doc.openapi).toBe("3.1.0");
    for (const [, e] of endpoints) expect(doc.paths[e.path]?.[e.method.toLowerCase()]?.operationId).toBe(e.name);
  });

  it("matches the route files: each binds the endpoint of its own path, with the method the document gives", () => {
    const files = routeFiles(API);
    const bound = new Set<string>();
    for (const file of files) {
      const path = `/api/v1/${relative(API, file).replace(/\/?route\.ts$/, "")}`.replace(/\[(\w+)\]/g, "{$1}");
      if (path === "/api/v1/openapi.json") continue;
      const source = readFileSync(file, "utf8");
      const m = source.match(/export const (GET|POST) = defineApiRoute\(ENDPOINTS\.(\w+),/);
      expect(m, `${file} defines its handler with defineApiRoute(ENDPOINTS.x, …)`).not.toBeNull();
      const [, method, key] = m as RegExpMatchArray;
      const e = ENDPOINTS[key as keyof typeof ENDPOINTS] as Endpoint;
      expect({ path: e.path, method: e.method }).toEqual({ path, method });
      expect(source.match(/export const (GET|POST|PUT|PATCH|DELETE)\b/g)).toHaveLength(1);
      bound.add(key as string);
    }
    expect([...bound].sort()).toEqual(endpoints.map(([k]) => k).sort());
  });

  it("describes each body and query with the handler's own schema", () => {
    for (const [, e] of endpoints) {
      const op = doc.paths[e.path]?.[e.method.toLowerCase()] as {
        requestBody?: { content: { "application/json": { schema: unknown } } };
        parameters: { name: string; in: string; required: boolean; schema: unknown }[];
      };
      if (e.input.from === "body") expect(op.requestBody?.content["application/json"].schema).toEqual(inputSchema(e.input.schema));
      else expect(op.requestBody).toBeUndefined();
      const query = inputSchema(e.input.schema) as { properties?: Record<string, unknown>; required?: string[] };
      const expected = e.input.from === "query" ? Object.keys(query.properties ?? {}) : [];
      expect(op.parameters.filter((p) => p.in === "query").map((p) => p.name)).toEqual(expected);
      expect(op.parameters.filter((p) => p.in === "path").map((p) => p.name)).toEqual(Object.keys(e.params?.shape ?? {}));
    }
  });

  // Inputs either side of every declared limit; refinements the JSON Schema cannot say (a version name's
  // own rule, "reason unless dryRun") are the cases where zod may refuse what the document allows, never
  // the other way round.
  const STEM = "candidate_logreg_20250305T101000Z";
  const SHA = "a".repeat(64);
  const KEY = encodeVersionCursor("score", "asc", {
    stem: STEM,
    modelType: "logreg",
    trainedAt: "2025-03-05T10:10:00Z",
    score: 0.7,
    metric: "pr_auc",
  });
  const samples: Record<string, { ok: unknown[]; bad: unknown[]; zodOnly?: unknown[] }> = {
    promotions: {
      ok: [
        { reason: "ship it" },
        { version: STEM, reason: "ship it", expectedProductionSha256: SHA },
        { dryRun: true },
        { reason: "why not", overrides: [{ check: "min_score", reason: "known gap" }], expectedProductionSha256: null },
      ],
      bad: [
        { reason: "ok", extra: 1 },
        { reason: "x" },
        { reason: "ship it", overrides: [{ check: "no_such_check", reason: "abc" }] },
        { reason: "ship it", expectedProductionSha256: "ABC" },
        { reason: "ship it", dryRun: "yes" },
        { version: 5, reason: "ship it" },
      ],
      zodOnly: [{}, { version: "../etc/passwd", reason: "ship it" }],
    },
    rollbacks: {
      ok: [
        { previous: true, reason: "bad model" },
        { to: STEM, reason: "bad model" },
        { to: STEM, dryRun: true },
      ],
      bad: [
        { previous: false, reason: "bad model" },
        { to: STEM, reason: "bad model", version: STEM },
      ],
      zodOnly: [{ reason: "bad model" }, { to: STEM, previous: true, reason: "bad model" }],
    },
    versions: {
      ok: [{}, { sort: "score", dir: "asc", q: "logreg", limit: 1000, cursor: "200" }, { sort: "score", dir: "asc", cursor: KEY }],
      bad: [{ sort: "size" }, { limit: 0 }, { limit: 1001 }, { cursor: "a b" }, { cursor: "x".repeat(1401) }, { page: 2 }],
      // Base64url, but not one of ours; or a key of another order.
      zodOnly: [{ cursor: "abc" }, { cursor: KEY }, { sort: "score", dir: "desc", cursor: KEY }],
    },
    audit: {
      ok: [{}, { action: "model.promoted", actor: "ci", from: "2026-01-01T00:00:00Z", limit: 10, cursor: "12" }],
      bad: [{ from: "yesterday" }, { limit: 5000 }, { seq: 1 }],
    },
  };
  // The date-time pattern zod writes beside the format carries the rule; the format itself is left to that.
  const ajv = new Ajv2020({ strict: false, allErrors: true, formats: { "date-time": true } });

  it.each(Object.entries(samples))("%s: the document and the handler's schema accept and refuse the same inputs", (key, s) => {
    const e = ENDPOINTS[key as keyof typeof ENDPOINTS] as Endpoint;
    const validate = ajv.compile(inputSchema(e.input.schema));
    // Query parameters arrive as strings: zod coerces them; the JSON Schema sees the typed values.
    const asSent = (v: unknown) =>
      e.input.from === "query" ? Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, String(x)])) : v;
    for (const v of s.ok) {
      expect(validate(v), `document accepts ${JSON.stringify(v)}`).toBe(true);
      expect((e.input.schema as z.ZodType).safeParse(asSent(v)).success, `handler accepts ${JSON.stringify(v)}`).toBe(true);
    }
    for (const v of s.bad) {
      expect(validate(v), `document refuses ${JSON.stringify(v)}`).toBe(false);
      expect((e.input.schema as z.ZodType).safeParse(asSent(v)).success, `handler refuses ${JSON.stringify(v)}`).toBe(false);
    }
    for (const v of s.zodOnly ?? []) {
      expect((e.input.schema as z.ZodType).safeParse(v).success, `handler refuses ${JSON.stringify(v)}`).toBe(false);
    }
  });
});
