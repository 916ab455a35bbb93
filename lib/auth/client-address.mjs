// Which address a request comes from, decided once per request by the server (scripts/server.mjs) from the
// TCP connection, so sign-in limits count real clients and not what a client claims in a header.
// Plain JavaScript because the server runs it before anything is compiled; types in client-address.d.mts.
import { BlockList, isIP } from "node:net";

/** The header the server sets on every request to the client's address; any inbound copy is removed first. */
export const CLIENT_ADDRESS_HEADER = "x-registry-client-address";

/** Headers only a trusted proxy may set: removed from everyone else's requests before the app sees them. */
export const PROXY_HEADERS = ["x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "x-real-ip", "forwarded"];

const LOOPBACK = ["127.0.0.0/8", "::1/128"];

export class ProxyConfigError extends Error {}

/**
 * The proxies whose X-Forwarded-For is believed, from REGISTRY_TRUSTED_PROXIES: addresses and CIDR ranges
 * separated by commas ("127.0.0.1, 10.0.0.0/8, fd00::/8"), or "loopback". REGISTRY_TRUST_PROXY=1, the older
 * switch, means "loopback" (a reverse proxy on the same machine). Throws ProxyConfigError on a bad entry. Pure.
 * @param {Record<string, string | undefined>} env
 */
export function trustedProxies(env) {
  const configured = env.REGISTRY_TRUSTED_PROXIES?.trim();
  const entries = configured
    ? configured
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean)
    : env.REGISTRY_TRUST_PROXY === "1"
      ? ["loopback"]
      : [];
  const list = new BlockList();
  /** @type {string[]} */
  const ranges = [];
  for (const entry of entries.flatMap((e) => (e.toLowerCase() === "loopback" ? LOOPBACK : [e]))) {
    const [address = "", bits, ...rest] = entry.split("/");
    const family = isIP(address);
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (!family || rest.length > 0 || (bits !== undefined && !/^\d{1,3}$/.test(bits)) || prefix > (family === 6 ? 128 : 32)) {
      throw new ProxyConfigError(
        `REGISTRY_TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR range (e.g. 127.0.0.1, 10.0.0.0/8, fd00::/8, loopback).`,
      );
    }
    list.addSubnet(address, prefix, family === 6 ? "ipv6" : "ipv4");
    ranges.push(`${address}/${prefix}`);
  }
  return {
    ranges,
    /** @param {string} address a normalised address */
    trusts: (address) => ranges.length > 0 && list.check(address, isIP(address) === 6 ? "ipv6" : "ipv4"),
  };
}

/**
 * An address as written by a socket or a proxy, normalised: IPv4-mapped IPv6 becomes IPv4, IPv6 lower case,
 * brackets and a port dropped ("[::1]:80", "10.0.0.1:5000"). Null when it is not an IP address. Pure.
 * @param {string | undefined | null} raw
 */
export function normaliseAddress(raw) {
  if (typeof raw !== "string") return null;
  let a = raw.trim();
  if (a.length === 0 || a.length > 64) return null;
  const bracketed = a.match(/^\[([^\]]+)\](?::\d{1,5})?$/);
  if (bracketed?.[1]) a = bracketed[1];
  else {
    const withPort = a.match(/^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/);
    if (withPort?.[1]) a = withPort[1];
  }
  const mapped = a.match(/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i);
  if (mapped?.[1]) a = mapped[1];
  const family = isIP(a);
  if (family === 4) return a;
  // A zone ("fe80::1%eth0") names a local interface: no use for telling clients apart.
  if (family === 6) return a.toLowerCase().replace(/%.*$/, "");
  return null;
}

/**
 * The client's address: the TCP peer's, unless the peer is a trusted proxy; then X-Forwarded-For is read from
 * the right (each trusted proxy appends the address it saw) and the first address that is not a trusted proxy
 * is the client. A malformed entry stops the walk: what lies left of it was never vouched for, so the last
 * trusted hop stands. "unknown" only when the socket gave no address. Pure.
 * @param {string | undefined | null} peer
 * @param {string | string[] | undefined | null} forwardedFor
 * @param {{ trusts: (address: string) => boolean }} proxies
 */
export function resolveClientAddress(peer, forwardedFor, proxies) {
  let client = normaliseAddress(peer);
  if (!client) return "unknown";
  if (!proxies.trusts(client)) return client;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? ""))
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normaliseAddress(hops[i]);
    if (!hop) return client;
    client = hop;
    if (!proxies.trusts(hop)) return hop;
  }
  return client;
}

/**
 * Rewrites a request's headers in place before the app sees them: the client address header is set from the
 * connection (a copy sent by the client is dropped), and unless the peer is a trusted proxy, the forwarded
 * headers are removed too, so nothing downstream can mistake a client's claim for the proxy's word.
 * @param {Record<string, string | string[] | undefined>} headers Node's IncomingMessage.headers
 * @param {string | undefined} peer the socket's remoteAddress
 * @param {{ trusts: (address: string) => boolean }} proxies
 */
export function applyClientAddress(headers, peer, proxies) {
  const client = resolveClientAddress(peer, headers["x-forwarded-for"], proxies);
  const viaProxy = proxies.trusts(normaliseAddress(peer) ?? "");
  if (!viaProxy) for (const h of PROXY_HEADERS) delete headers[h];
  headers[CLIENT_ADDRESS_HEADER] = client;
  return client;
}

/**
 * The bucket sign-in failures are counted in for an address: an IPv4 address itself, an IPv6 address by its
 * /64 (one subscriber usually holds a whole /64, so single addresses would be free to change). Pure.
 * @param {string} address
 */
export function addressBucket(address) {
  const a = normaliseAddress(address);
  if (!a) return "unknown";
  if (isIP(a) === 4) return a;
  return `${expandIPv6(a).slice(0, 4).join(":")}::/64`;
}

/** @param {string} address a valid IPv6 address without zone */
function expandIPv6(address) {
  let a = address;
  // A trailing dotted quad ("::ffff:1.2.3.4", "64:ff9b::1.2.3.4") as two groups.
  const quad = a.match(/(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (quad) {
    const [b1, b2, b3, b4] = quad.slice(1).map(Number);
    a = `${a.slice(0, -quad[0].length)}${(((b1 ?? 0) << 8) | (b2 ?? 0)).toString(16)}:${(((b3 ?? 0) << 8) | (b4 ?? 0)).toString(16)}`;
  }
  const [head = "", tail] = a.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return groups.map((g) => Number.parseInt(g, 16).toString(16));
}
