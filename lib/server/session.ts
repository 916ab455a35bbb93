import "server-only";
import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { openAudit } from "@/lib/audit";
import { can, type Permission, proxyConfig, proxyIdentity, type SessionUser, userForToken } from "@/lib/auth";
import { CLIENT_ADDRESS_HEADER, normaliseAddress } from "@/lib/auth/client-address.mjs";
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
  if (proxy) {
    const h = await headers();
    const who = proxyIdentity(proxy, (name) => h.get(name));
    return who ? { id: 0, username: who.username, roles: who.roles } : null;
  }
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  return userForToken(db(), token);
}

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
 * client sent. Without that server (`next dev`, a bare `next start`) no header can be trusted, so every
 * client shares the address "unknown", and the server log says so once.
 */
export async function clientAddress(): Promise<string> {
  const address = normaliseAddress((await headers()).get(CLIENT_ADDRESS_HEADER));
  if (address) return address;
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
