import { change } from "@/lib/api/handlers";
import { ENDPOINTS } from "@/lib/api/spec";
import { defineApiRoute } from "@/lib/server/api-route";

export const POST = defineApiRoute(ENDPOINTS.promotions, (input, ctx) => change("promote", input, ctx));
