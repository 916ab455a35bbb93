// Types for client-address.mjs (plain JavaScript so the server can run it uncompiled).
export declare const CLIENT_ADDRESS_HEADER: "x-registry-client-address";
export declare const PROXY_HEADERS: readonly string[];
export declare class ProxyConfigError extends Error {}
export interface TrustedProxies {
  ranges: string[];
  trusts(address: string): boolean;
}
export declare function trustedProxies(env: Record<string, string | undefined>): TrustedProxies;
export declare function normaliseAddress(raw: string | undefined | null): string | null;
export declare function resolveClientAddress(
  peer: string | undefined | null,
  forwardedFor: string | string[] | undefined | null,
  proxies: Pick<TrustedProxies, "trusts">,
): string;
export declare function applyClientAddress(
  headers: Record<string, string | string[] | undefined>,
  peer: string | undefined,
  proxies: Pick<TrustedProxies, "trusts">,
): string;
export declare function addressBucket(address: string): string;
