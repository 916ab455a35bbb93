import { openApiDocument } from "@/lib/api/openapi";

// Public: the document describes the API and holds nothing about the registry.
export function GET(): Response {
  return Response.json(openApiDocument());
}
