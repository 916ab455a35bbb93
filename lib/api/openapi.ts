import { z } from "zod";
import { ENDPOINTS, type Endpoint } from "./spec";

// The OpenAPI 3.1 document of /api/v1, generated from the endpoints' zod schemas (zod 4's JSON Schema
// output, "input" side: what a client sends). OpenAPI 3.1 uses JSON Schema 2020-12 as is.

type JsonSchema = Record<string, unknown>;

/** An input schema as JSON Schema, without its $schema line (the document names the dialect once). Pure. */
export function inputSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", target: "draft-2020-12", unrepresentable: "any" }) as JsonSchema;
  return rest;
}

const errorBody: JsonSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" } },
    },
    fieldErrors: { type: "object", additionalProperties: { type: "array", items: { type: "string" } } },
    result: { type: "object", description: "For a refused change: the plan, as for a successful answer." },
  },
};

const COMMON_ERRORS: Record<number, string> = {
  400: "Bad input (`error.code` invalid_input, with fieldErrors).",
  401: "No token, or a token that is malformed, unknown, revoked or expired.",
  403: "The token's role does not allow this.",
  429: "Too many requests for this token, or too many failed tokens from this address: see Retry-After.",
};

function parameters(e: Endpoint): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [name, schema] of Object.entries(e.params?.shape ?? {})) {
    out.push({ name, in: "path", required: true, schema: inputSchema(schema as z.ZodType) });
  }
  if (e.input.from === "query") {
    const whole = inputSchema(e.input.schema);
    const required = new Set((whole.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries((whole.properties as Record<string, JsonSchema>) ?? {})) {
      out.push({ name, in: "query", required: required.has(name), schema });
    }
  }
  return out;
}

function operation(e: Endpoint): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  for (const [status, description] of Object.entries({ ...e.statuses, ...COMMON_ERRORS })) {
    responses[status] = {
      description,
      content: { "application/json": { schema: Number(status) >= 400 ? errorBody : { type: "object" } } },
    };
  }
  return {
    operationId: e.name,
    summary: e.summary,
    description: `Needs a token whose role grants \`${e.permission}\`.`,
    security: [{ bearer: [] }],
    parameters: parameters(e),
    ...(e.input.from === "body"
      ? { requestBody: { required: true, content: { "application/json": { schema: inputSchema(e.input.schema) } } } }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document for every endpoint in ENDPOINTS. Pure. */
export function openApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const e of Object.values(ENDPOINTS) as Endpoint[]) {
    paths[e.path] ??= {};
    (paths[e.path] as Record<string, JsonSchema>)[e.method.toLowerCase()] = operation(e);
  }
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "Model registry API",
      version: "1",
      description:
        "Bearer-token API over the model registry. Tokens are created by admins (`registry tokens create` or /admin/tokens) " +
        "and scoped to one role. Errors are `{error: {code, message}}`.",
    },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API token (mrt_…)." } } },
    security: [{ bearer: [] }],
    paths: {
      ...paths,
      "/api/v1/openapi.json": {
        get: { operationId: "api.openapi", summary: "This document.", security: [], responses: { 200: { description: "OpenAPI 3.1." } } },
      },
    },
  };
}
