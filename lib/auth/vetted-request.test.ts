import { describe, expect, it } from "vitest";
import { CLIENT_ADDRESS_HEADER, trustedProxies } from "./client-address.mjs";
import { identityHeaderNames, isVetted, startVetting, VETTED_HEADER, vetRequest, vettedClientAddress } from "./vetted-request.mjs";

const proxies = trustedProxies({ REGISTRY_TRUSTED_PROXIES: "10.0.0.5" });
const forged = () => ({
  "x-forwarded-user": "admin",
  "x-forwarded-groups": "ml-admin",
  "x-auth-request-user": "admin",
  [VETTED_HEADER]: "guess",
  [CLIENT_ADDRESS_HEADER]: "203.0.113.7",
});

describe("identityHeaderNames", () => {
  it("reads the configured names, lower case, with x-forwarded-user and x-forwarded-groups as defaults", () => {
    expect(identityHeaderNames({})).toEqual({ user: "x-forwarded-user", groups: "x-forwarded-groups" });
    expect(
      identityHeaderNames({ REGISTRY_AUTH_PROXY_USER_HEADER: "X-Auth-Request-User", REGISTRY_AUTH_PROXY_GROUPS_HEADER: " X-Groups " }),
    ).toEqual({ user: "x-auth-request-user", groups: "x-groups" });
    expect(identityHeaderNames({ REGISTRY_AUTH_PROXY_USER_HEADER: "" }).user).toBe("x-forwarded-user");
  });
});

describe("vetRequest", () => {
  it("removes the identity headers a peer that is not a trusted proxy sent, and marks the request vetted", () => {
    const vetting = startVetting({}, proxies);
    const headers: Record<string, string | string[] | undefined> = forged();
    expect(vetRequest(headers, "::ffff:198.51.100.1", vetting)).toBe("198.51.100.1");
    expect(headers["x-forwarded-user"]).toBeUndefined();
    expect(headers["x-forwarded-groups"]).toBeUndefined();
    // Not a configured name: left alone, and never read.
    expect(headers["x-auth-request-user"]).toBe("admin");
    expect(headers[CLIENT_ADDRESS_HEADER]).toBe("198.51.100.1");
    expect(headers[VETTED_HEADER]).not.toBe("guess");
    expect(isVetted(headers[VETTED_HEADER] as string)).toBe(true);
  });

  it("strips whichever names are configured, and keeps them from a trusted proxy", () => {
    const vetting = startVetting({ REGISTRY_AUTH_PROXY_USER_HEADER: "X-Auth-Request-User" }, proxies);
    const fromClient: Record<string, string | string[] | undefined> = forged();
    vetRequest(fromClient, "198.51.100.1", vetting);
    expect(fromClient["x-auth-request-user"]).toBeUndefined();
    const fromProxy: Record<string, string | string[] | undefined> = { ...forged(), "x-forwarded-for": "198.51.100.1" };
    vetRequest(fromProxy, "10.0.0.5", vetting);
    expect(fromProxy["x-auth-request-user"]).toBe("admin");
    expect(fromProxy["x-forwarded-groups"]).toBe("ml-admin");
    expect(fromProxy[CLIENT_ADDRESS_HEADER]).toBe("198.51.100.1");
  });
});

describe("isVetted and vettedClientAddress", () => {
  it("accept only this process's current secret", () => {
    const first = startVetting({}, proxies);
    const second = startVetting({}, proxies);
    expect(first.secret).not.toBe(second.secret);
    expect(isVetted(first.secret)).toBe(false);
    expect(isVetted(second.secret)).toBe(true);
    for (const mark of [null, undefined, "", "guess", `${second.secret}x`, second.secret.slice(1)]) expect(isVetted(mark)).toBe(false);
  });

  it("read the client address only on a vetted request", () => {
    const vetting = startVetting({}, proxies);
    const headers = (h: Record<string, string>) => (name: string) => h[name] ?? null;
    expect(vettedClientAddress(headers({ [CLIENT_ADDRESS_HEADER]: "203.0.113.7" }))).toBe("unknown");
    expect(vettedClientAddress(headers({ [CLIENT_ADDRESS_HEADER]: "203.0.113.7", [VETTED_HEADER]: "guess" }))).toBe("unknown");
    expect(vettedClientAddress(headers({ [CLIENT_ADDRESS_HEADER]: "203.0.113.7", [VETTED_HEADER]: vetting.secret }))).toBe("203.0.113.7");
  });
});
