// Types for vetted-request.mjs (plain JavaScript so the server can run it uncompiled).
import type { TrustedProxies } from "./client-address.mjs";

export declare const VETTED_HEADER: "x-registry-vetted";
export interface Vetting {
  proxies: Pick<TrustedProxies, "trusts">;
  identityHeaders: string[];
  secret: string;
}
export declare function identityHeaderNames(env: Record<string, string | undefined>): { user: string; groups: string };
export declare function startVetting(env: Record<string, string | undefined>, proxies: Pick<TrustedProxies, "trusts">): Vetting;
export declare function vetRequest(
  headers: Record<string, string | string[] | undefined>,
  peer: string | undefined,
  vetting: Vetting,
): string;
export declare function isVetted(mark: string | null | undefined): boolean;
export declare function vettedClientAddress(header: (name: string) => string | null): string;
