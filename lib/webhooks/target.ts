import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, isIPv4 } from "node:net";
import { PrivateAddressError, WebhookUrlError } from "./errors";

// Where a webhook may point. http and https only, no credentials in the URL (they would be shown on the
// admin page), and, unless REGISTRY_WEBHOOKS_ALLOW_PRIVATE says otherwise, no address inside a private
// network: a webhook is a request the server makes on an admin's behalf, and pointed at 127.0.0.1 or the
// cloud's metadata address it would reach what the network only trusts the server with. The address is
// checked when the connection is made, on the address connected to (a DNS answer that changes between a
// check and the connection cannot slip through).

const MAX_URL = 2000;

const INTERNAL = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  INTERNAL.addSubnet(net, bits, "ipv4");
}
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96],
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  INTERNAL.addSubnet(net, bits, "ipv6");
}

/** Which internal addresses are allowed anyway: none (the default), all, or some ranges. */
export type AddressPolicy = { allowAll: boolean; allowed: BlockList; text: string };

/**
 * REGISTRY_WEBHOOKS_ALLOW_PRIVATE: unset or empty refuses every internal address; `1` (or `true`, `all`)
 * allows them all (a registry whose receivers are on its own network); otherwise a comma-separated list of
 * addresses and CIDR ranges allowed (`10.1.2.0/24,127.0.0.1`). Throws WebhookUrlError on a bad entry.
 */
export function addressPolicy(env: Record<string, string | undefined> = process.env): AddressPolicy {
  const text = (env.REGISTRY_WEBHOOKS_ALLOW_PRIVATE ?? "").trim();
  const allowed = new BlockList();
  if (["1", "true", "all"].includes(text.toLowerCase())) return { allowAll: true, allowed, text };
  for (const entry of text.split(",").map((e) => e.trim()).filter(Boolean)) {
    const [addr = "", bits] = entry.split("/");
    const family = isIP(addr);
    const n = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (family === 0 || !Number.isInteger(n) || n < 0 || n > (family === 6 ? 128 : 32)) {
      throw new WebhookUrlError(`REGISTRY_WEBHOOKS_ALLOW_PRIVATE: "${entry.slice(0, 60)}" is not an address or CIDR range.`);
    }
    allowed.addSubnet(addr, n, family === 6 ? "ipv6" : "ipv4");
  }
  return { allowAll: false, allowed, text };
}

/** True when connecting to `address` is refused under `policy`. Pure. */
export function isRefusedAddress(address: string, policy: AddressPolicy): boolean {
  // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const addr = mapped ?? address;
  const type = isIPv4(addr) ? "ipv4" : "ipv6";
  if (isIP(addr) === 0) return true;
  if (!INTERNAL.check(addr, type)) return false;
  return !(policy.allowAll || policy.allowed.check(addr, type));
}

/**
 * Parses and checks a webhook URL as an admin typed it: http or https, a host, no user or password, no
 * fragment, at most 2000 characters; an address written in the URL is checked against the policy now
 * (a host name is checked at every connection). Returns the normalised URL.
 */
export function checkTargetUrl(text: string, policy: AddressPolicy = addressPolicy()): string {
  if (text.length > MAX_URL) throw new WebhookUrlError(`A webhook URL has at most ${MAX_URL} characters.`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookUrlError("Not a URL: a webhook needs an absolute http:// or https:// URL.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new WebhookUrlError("A webhook URL must start with http:// or https://.");
  if (url.username || url.password)
    throw new WebhookUrlError("A webhook URL may not carry a user name or password: the signature authenticates us to the receiver.");
  if (url.hash) throw new WebhookUrlError("A webhook URL may not have a #fragment.");
  const host = hostOf(url);
  if (!host) throw new WebhookUrlError("A webhook URL needs a host.");
  if (isIP(host) && isRefusedAddress(host, policy)) throw privateError(host);
  if (/^localhost\.?$/i.test(host) || /\.localhost\.?$/i.test(host)) {
    if (!policy.allowAll && !policy.allowed.check("127.0.0.1", "ipv4")) throw privateError(host);
  }
  return url.href;
}

/** The URL's host without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

export function privateError(address: string): PrivateAddressError {
  return new PrivateAddressError(
    `Refused: ${address.slice(0, 100)} is a private, loopback or internal address. Set REGISTRY_WEBHOOKS_ALLOW_PRIVATE on the registry's server and CLI to allow it.`,
  );
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request: resolves the host, refuses it when any of its addresses is refused, and
 * hands the connection exactly the address it checked.
 */
export function checkedLookup(policy: AddressPolicy) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const bad = addresses.find((a) => isRefusedAddress(a.address, policy));
      if (bad || addresses.length === 0) {
        const e = privateError(bad?.address ?? hostname) as unknown as NodeJS.ErrnoException;
        return callback(e, []);
      }
      const first = addresses[0] as LookupAddress;
      if (options.all) callback(null, [first]);
      else callback(null, first.address, first.family);
    });
  };
}
