// Which request headers the app may believe, decided once per request by our server (scripts/server.mjs).
// It rewrites the client-address and forwarded headers (client-address.mjs), removes the sign-in proxy's
// identity headers from every peer that is not a trusted proxy, and then marks the request as vetted with a
// secret made fresh in each server process. Without that server (`next dev`, a bare `next start`) nothing
// removes a forged header, and no request carries the secret: the app then believes none of these headers.
// Plain JavaScript because the server runs it before anything is compiled; types in vetted-request.d.mts.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { applyClientAddress, CLIENT_ADDRESS_HEADER, normaliseAddress } from "./client-address.mjs";

/** Carries this process's vetting secret on every request our server handled; any inbound copy is overwritten. */
export const VETTED_HEADER = "x-registry-vetted";

// On the process's global object: the app's bundled copy of this module is another module instance than the
// server's, but the same process. Never in the environment (child processes inherit it), never logged.
const SECRET = Symbol.for("model-registry.vetting-secret");

/**
 * The headers sign-in through a reverse proxy reads (REGISTRY_AUTH_PROXY_USER_HEADER and
 * REGISTRY_AUTH_PROXY_GROUPS_HEADER, default x-forwarded-user and x-forwarded-groups), lower case. Pure.
 * @param {Record<string, string | undefined>} env
 */
export function identityHeaderNames(env) {
  return {
    user: (env.REGISTRY_AUTH_PROXY_USER_HEADER?.trim() || "x-forwarded-user").toLowerCase(),
    groups: (env.REGISTRY_AUTH_PROXY_GROUPS_HEADER?.trim() || "x-forwarded-groups").toLowerCase(),
  };
}

/**
 * Starts vetting in this process (once, by scripts/server.mjs): makes the secret that marks vetted requests.
 * @param {Record<string, string | undefined>} env
 * @param {{ trusts: (address: string) => boolean }} proxies
 */
export function startVetting(env, proxies) {
  const secret = randomBytes(32).toString("base64url");
  Object.defineProperty(globalThis, SECRET, { value: secret, enumerable: false, configurable: true });
  const { user, groups } = identityHeaderNames(env);
  return { proxies, identityHeaders: [user, groups], secret };
}

/**
 * Rewrites a request's headers in place before the app sees them: the client address (applyClientAddress),
 * the identity headers removed unless the peer is a trusted proxy, and the vetted mark set over any copy the
 * client sent. Returns the client's address.
 * @param {Record<string, string | string[] | undefined>} headers Node's IncomingMessage.headers
 * @param {string | undefined} peer the socket's remoteAddress
 * @param {{ proxies: { trusts: (address: string) => boolean }, identityHeaders: string[], secret: string }} vetting
 */
export function vetRequest(headers, peer, vetting) {
  const client = applyClientAddress(headers, peer, vetting.proxies);
  if (!vetting.proxies.trusts(normaliseAddress(peer) ?? "")) for (const h of vetting.identityHeaders) delete headers[h];
  headers[VETTED_HEADER] = vetting.secret;
  return client;
}

/**
 * Whether a request went through vetRequest in this process: its mark equals this process's secret, compared
 * in constant time. Always false in a process our server did not start.
 * @param {string | null | undefined} mark the request's VETTED_HEADER
 */
export function isVetted(mark) {
  /** @type {unknown} */
  const secret = Reflect.get(globalThis, SECRET);
  if (typeof secret !== "string" || typeof mark !== "string") return false;
  const given = Buffer.from(mark);
  const expected = Buffer.from(secret);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The client's address our server set for a request, or "unknown" when the request was not vetted (then any
 * address header is the client's own claim).
 * @param {(name: string) => string | null} header the request's headers
 */
export function vettedClientAddress(header) {
  if (!isVetted(header(VETTED_HEADER))) return "unknown";
  return normaliseAddress(header(CLIENT_ADDRESS_HEADER)) ?? "unknown";
}
