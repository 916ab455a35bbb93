import { openAudit } from "@/lib/audit/db";
import { flushRefusalsLater, recordRefusal } from "@/lib/audit/refusals";
import { proxyConfig, proxyIdentity, userForToken } from "@/lib/auth";
import { isVetted, VETTED_HEADER, vettedClientAddress } from "@/lib/auth/vetted-request.mjs";
import { resolveRoot } from "@/lib/registry";
import { actionIdOf, isActionRequest } from "./action-request";

// Loaded by proxy.ts (on the first refused request only) to audit a request from another origin. Outside
// a page's render, so no next/headers: everything comes from the request it is given.

/** The session cookie's name: the same as lib/server/session.ts's SESSION_COOKIE (that module is for renders only). */
const SESSION_COOKIE = "registry_session";

export interface RequestFacts {
  method: string;
  path: string;
  header(name: string): string | null;
  cookie(name: string): string | undefined;
}

/**
 * Records a refused request from another origin, counted per minute like every refusal (see
 * lib/audit/refusals.ts). Names the person whose session the browser carried, if any: a page elsewhere
 * acted through their browser. The client address and a proxy's identity headers count only on a request
 * our server vetted (lib/auth/vetted-request.mjs): elsewhere they are the client's own claims.
 */
export async function auditCrossOrigin(req: RequestFacts, origin: string): Promise<void> {
  const db = openAudit(resolveRoot());
  const proxy = proxyConfig();
  const user = proxy
    ? isVetted(req.header(VETTED_HEADER))
      ? proxyIdentity(proxy, req.header)
      : null
    : await userForToken(db, req.cookie(SESSION_COOKIE));
  const action = isActionRequest(req.method, req.header) ? "server-action" : "request";
  const path = req.path.slice(0, 200);
  const method = /^[A-Z]{1,10}$/.test(req.method) ? req.method : "request";
  const actionId = actionIdOf(req.header);
  await recordRefusal(db, {
    kind: "request.cross_origin",
    user: user ? { name: user.username, role: user.roles.join(",") || "none" } : null,
    address: vettedClientAddress(req.header),
    action,
    reason: `Refused a ${action === "server-action" ? "server action" : method} to ${path} from another origin (${origin})${user ? ` in ${user.username}'s browser` : ""}.`,
    details: { origin, path, method, ...(actionId ? { actionId } : {}) },
  });
  flushRefusalsLater(db);
}
