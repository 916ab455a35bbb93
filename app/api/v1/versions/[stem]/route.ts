import { version } from "@/lib/api/handlers";
import { ENDPOINTS } from "@/lib/api/spec";
import { defineApiRoute } from "@/lib/server/api-route";

export const GET = defineApiRoute(ENDPOINTS.version, (_input, ctx, params) => version(params.stem as string, ctx));
