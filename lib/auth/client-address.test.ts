import { describe, expect, it } from "vitest";
import {
  addressBucket,
  applyClientAddress,
  CLIENT_ADDRESS_HEADER,
  normaliseAddress,
  ProxyConfigError,
  resolveClientAddress,
  trustedProxies,
} from "./client-address.mjs";

const none = trustedProxies({});
const proxies = trustedProxies({ REGISTRY_TRUSTED_PROXIES: "127.0.0.1, 10.0.0.0/8, fd00::/8" });

describe("trustedProxies", () => {
  it("trusts nobody unless configured", () => {
    expect(none.ranges).toEqual([]);
    for (const a of ["127.0.0.1", "::1", "10.0.0.1", "0.0.0.0"]) expect(none.trusts(a)).toBe(false);
  });

  it("reads addresses, CIDR ranges and 'loopback'", () => {
    expect(proxies.ranges).toEqual(["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"]);
    expect(proxies.trusts("127.0.0.1")).toBe(true);
    expect(proxies.trusts("127.0.0.2")).toBe(false);
    expect(proxies.trusts("10.255.1.2")).toBe(true);
    expect(proxies.trusts("11.0.0.1")).toBe(false);
    expect(proxies.trusts("fd12:3456::1")).toBe(true);
    expect(proxies.trusts("fe80::1")).toBe(false);
    const loop = trustedProxies({ REGISTRY_TRUSTED_PROXIES: "loopback" });
    expect(loop.ranges).toEqual(["127.0.0.0/8", "::1/128"]);
    expect(loop.trusts("127.9.9.9") && loop.trusts("::1")).toBe(true);
  });

  it("reads the older REGISTRY_TRUST_PROXY=1 as 'a proxy on this machine', and the new setting wins", () => {
    expect(trustedProxies({ REGISTRY_TRUST_PROXY: "1" }).ranges).toEqual(["127.0.0.0/8", "::1/128"]);
    expect(trustedProxies({ REGISTRY_TRUST_PROXY: "true" }).ranges).toEqual([]);
    expect(trustedProxies({ REGISTRY_TRUST_PROXY: "1", REGISTRY_TRUSTED_PROXIES: "10.1.1.1" }).ranges).toEqual(["10.1.1.1/32"]);
  });

  it("refuses entries that are not addresses or ranges, naming them", () => {
    for (const bad of ["*", "0.0.0.0/33", "10.0.0.0/8/8", "proxy.internal", "10.0.0", "::1/129", "10.0.0.0/-1", "10.0.0.0/ 8"]) {
      expect(() => trustedProxies({ REGISTRY_TRUSTED_PROXIES: bad }), bad).toThrow(ProxyConfigError);
    }
    expect(() => trustedProxies({ REGISTRY_TRUSTED_PROXIES: "10.0.0.1, nope" })).toThrow(/"nope"/);
  });
});

describe("normaliseAddress", () => {
  it("normalises what sockets and proxies write", () => {
    expect(normaliseAddress("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(normaliseAddress("::FFFF:10.1.2.3")).toBe("10.1.2.3");
    expect(normaliseAddress(" 203.0.113.7 ")).toBe("203.0.113.7");
    expect(normaliseAddress("203.0.113.7:51234")).toBe("203.0.113.7");
    expect(normaliseAddress("[2001:DB8::1]:443")).toBe("2001:db8::1");
    expect(normaliseAddress("2001:DB8::1")).toBe("2001:db8::1");
    expect(normaliseAddress("fe80::1%eth0")).toBe("fe80::1");
  });

  it("refuses anything that is not an address", () => {
    for (const bad of [
      undefined,
      null,
      "",
      "unknown",
      "local",
      "evil.example",
      "1.2.3",
      "1.2.3.4.5",
      "300.1.1.1",
      "1.2.3.4, 5.6.7.8",
      "x".repeat(100),
    ]) {
      expect(normaliseAddress(bad), String(bad)).toBeNull();
    }
  });
});

describe("resolveClientAddress", () => {
  it("is the socket's address when the peer is not a trusted proxy, whatever the headers say", () => {
    expect(resolveClientAddress("198.51.100.9", "203.0.113.7", none)).toBe("198.51.100.9");
    expect(resolveClientAddress("198.51.100.9", "203.0.113.7", proxies)).toBe("198.51.100.9");
    expect(resolveClientAddress("::ffff:127.0.0.1", undefined, none)).toBe("127.0.0.1");
    expect(resolveClientAddress(undefined, "203.0.113.7", proxies)).toBe("unknown");
  });

  it("takes the rightmost address a trusted proxy did not add itself", () => {
    expect(resolveClientAddress("127.0.0.1", "203.0.113.7", proxies)).toBe("203.0.113.7");
    // The client's own claim sits on the left and is ignored.
    expect(resolveClientAddress("127.0.0.1", "1.1.1.1, 203.0.113.7", proxies)).toBe("203.0.113.7");
    // Two trusted hops: 10.0.0.5 forwarded to 127.0.0.1.
    expect(resolveClientAddress("127.0.0.1", "1.1.1.1, 203.0.113.7, 10.0.0.5", proxies)).toBe("203.0.113.7");
    // Repeated headers arrive as one list, in order.
    expect(resolveClientAddress("127.0.0.1", ["1.1.1.1", "203.0.113.7, 10.0.0.5"], proxies)).toBe("203.0.113.7");
    expect(resolveClientAddress("::ffff:10.0.0.5", "[2001:db8::7]:5555", proxies)).toBe("2001:db8::7");
  });

  it("stops at a malformed entry: the last trusted hop stands", () => {
    expect(resolveClientAddress("127.0.0.1", "203.0.113.7, garbage, 10.0.0.5", proxies)).toBe("10.0.0.5");
    expect(resolveClientAddress("127.0.0.1", "garbage", proxies)).toBe("127.0.0.1");
  });

  it("is the trusted proxy itself when it forwards nothing, and the leftmost hop when every hop is trusted", () => {
    expect(resolveClientAddress("127.0.0.1", undefined, proxies)).toBe("127.0.0.1");
    expect(resolveClientAddress("127.0.0.1", " , ", proxies)).toBe("127.0.0.1");
    expect(resolveClientAddress("127.0.0.1", "10.0.0.9, 10.0.0.5", proxies)).toBe("10.0.0.9");
  });

  it("gives a client that forges headers no new address, however many it sends", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) seen.add(resolveClientAddress("198.51.100.9", `10.0.0.${i}, 203.0.113.${i}`, proxies));
    expect([...seen]).toEqual(["198.51.100.9"]);
  });
});

describe("applyClientAddress", () => {
  it("replaces a client's copy of the address header and drops its forwarded headers", () => {
    const headers: Record<string, string | string[] | undefined> = {
      host: "registry.example.com",
      [CLIENT_ADDRESS_HEADER]: "203.0.113.1",
      "x-forwarded-for": "203.0.113.2",
      "x-real-ip": "203.0.113.3",
      "x-forwarded-host": "evil.example",
      "x-forwarded-proto": "https",
      "x-forwarded-port": "443",
      forwarded: "for=203.0.113.4",
      cookie: "a=b",
    };
    expect(applyClientAddress(headers, "::ffff:198.51.100.9", proxies)).toBe("198.51.100.9");
    expect(headers).toEqual({ host: "registry.example.com", [CLIENT_ADDRESS_HEADER]: "198.51.100.9", cookie: "a=b" });
  });

  it("keeps a trusted proxy's forwarded headers and sets the client it names", () => {
    const headers: Record<string, string | string[] | undefined> = {
      [CLIENT_ADDRESS_HEADER]: "203.0.113.1",
      "x-forwarded-for": "1.1.1.1, 203.0.113.7",
      "x-forwarded-proto": "https",
    };
    expect(applyClientAddress(headers, "127.0.0.1", proxies)).toBe("203.0.113.7");
    expect(headers).toEqual({
      [CLIENT_ADDRESS_HEADER]: "203.0.113.7",
      "x-forwarded-for": "1.1.1.1, 203.0.113.7",
      "x-forwarded-proto": "https",
    });
  });
});

describe("addressBucket", () => {
  it("counts IPv4 addresses one by one and IPv6 addresses by their /64", () => {
    expect(addressBucket("203.0.113.7")).toBe("203.0.113.7");
    expect(addressBucket("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(addressBucket("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:0DB8:0001:0002::")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressBucket("::1")).toBe("0:0:0:0::/64");
    expect(addressBucket("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
    expect(addressBucket("unknown")).toBe("unknown");
  });
});
