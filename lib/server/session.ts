import "server-only";
import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { openAudit } from "@/lib/audit";
import { flushRefusalsLater, recordRefusal } from "@/lib/audit/refusals";
import { can, type Permission, type ProxyConfig, proxyConfig, proxyIdentity, type SessionUser, userForToken } from "@/lib/auth";
import { isVetted, VETTED_HEADER, vettedClientAddress } from "@/lib/auth/vetted-request.mjs";
import { registryRoot } from "./registry";

export const SESSION_COOKIE = "registry_session";
/** Marks a browser that has signed in before (see KnownBrowser in schema.prisma). */
export const BROWSER_COOKIE = "registry_browser";

/** The database holding accounts and the audit log for the registry this server serves. */
export function db() {
  return openAudit(registryRoot());
}

/**
 * The signed-in user of this request, or null: from the trusted proxy's headers when proxy sign-in is on,
 * else from the session cookie and the database.
 */
export async function currentUser(): Promise<SessionUser | null> {
  const proxy = proxyConfig();
  if (proxy) return proxyUser(proxy);
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  return userForToken(db(), token);
}

/**
 * The person the sign-in proxy vouches for, on a request our server vetted (it removed the identity headers
 * unless they came from a trusted proxy). On any other request the headers are a client's claim: refused,
 * and the refusal audited, counted per minute like every refusal so forged headers cannot flood the log.
 */
async function proxyUser(proxy: ProxyConfig): Promise<SessionUser | null> {
  const h = await headers();
  const who = proxyIdentity(proxy, (name) => h.get(name));
  if (!who) return null;
  if (isVetted(h.get(VETTED_HEADER))) return { id: 0, username: who.username, roles: who.roles };
  if (!warnedUnvetted) {
    warnedUnvetted = true;
    console.warn(
      "REGISTRY_AUTH_PROXY=1: refusing the proxy's identity headers: this server was not started by `npm start` (scripts/server.mjs), so nothing checked they came from a trusted proxy.",
    );
  }
  const database = db();
  await recordRefusal(database, {
    kind: "auth.denied",
    user: null,
    address: await clientAddress(),
    action: "proxy-sign-in",
    reason: `Refused sign-in by the ${proxy.userHeader} header: the request did not come through npm start's server, which checks it came from a trusted proxy.`,
    details: { claimed: who.username },
  });
  flushRefusalsLater(database);
  return null;
}
let warnedUnvetted = false;

/**
 * For pages: the signed-in user holding `permission`. Redirects to sign-in (or first-run set-up) when
 * nobody is signed in, and to /forbidden when the role does not allow it.
 */
export async function requirePage(permission: Permission, next = "/"): Promise<SessionUser> {
  const user = await currentUser();
  if (!user) {
    // Behind the sign-in proxy there is no sign-in page of ours: a request without its headers is refused.
    if (proxyConfig()) redirect(`/forbidden?need=${permission}`);
    const anyone = await db().user.count();
    redirect(anyone === 0 ? "/setup" : `/login?next=${encodeURIComponent(next)}`);
  }
  if (!can(user.roles, permission)) redirect(`/forbidden?need=${permission}`);
  return user;
}

/**
 * The client's address, for sign-in limits and the session record: the header our server (scripts/server.mjs)
 * set from the TCP connection, or from a proxy named in REGISTRY_TRUSTED_PROXIES, after removing any copy the
 * client sent. Without that server (`next dev`, a bare `next start`) no header can be trusted (a client could
 * send that one too), so every client shares the address "unknown", and the server log says so once.
 */
export async function clientAddress(): Promise<string> {
  const h = await headers();
  const address = vettedClientAddress((name) => h.get(name));
  if (address !== "unknown") return address;
  if (!warnedNoServer) {
    warnedNoServer = true;
    console.warn(
      "Sign-in limits: no client address from scripts/server.mjs (started without `npm start`?): all clients share one address.",
    );
  }
  return "unknown";
}
let warnedNoServer = false;

/**
 * Whether cookies must be Secure: behind https (or when forced), not on plain-http localhost. X-Forwarded-Proto
 * only reaches here from a trusted proxy: scripts/server.mjs removes it from everyone else's requests.
 */
export async function secureCookies(): Promise<boolean> {
  if (process.env.REGISTRY_COOKIE_SECURE === "1") return true;
  const h = await headers();
  return h.get("x-forwarded-proto") === "https";
}
