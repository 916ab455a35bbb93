import { auditVerify } from "@/lib/api/handlers";
import { ENDPOINTS } from "@/lib/api/spec";
import { defineApiRoute } from "@/lib/server/api-route";

export const GET = defineApiRoute(ENDPOINTS.auditVerify, (_input, ctx) => auditVerify(ctx));
