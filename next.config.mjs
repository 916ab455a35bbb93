// Plain JavaScript on purpose: a next.config.ts makes `next start` load the SWC compiler (24 MB of
// resident memory in the server, measured) just to read this file.

// On every answer, static files included (proxy.ts sets the same, and the per-page Content-Security-Policy,
// on everything else).
const SECURITY_HEADERS = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "same-origin" },
  { key: "X-Frame-Options", value: "DENY" },
];

/** @type {import("next").NextConfig} */
const nextConfig = {
  // Native SQLite bindings must be loaded by Node at run time, not bundled.
  serverExternalPackages: ["better-sqlite3", "@prisma/adapter-better-sqlite3", "pg", "@prisma/adapter-pg", "@node-rs/argon2"],
  poweredByHeader: false,
  typedRoutes: false,
  headers: async () => [{ source: "/:path*", headers: SECURITY_HEADERS }],
  experimental: {
    // proxy.ts reads server-action bodies to check them; no body we accept is larger than Next's 1 MB
    // action limit, so none needs buffering beyond it.
    proxyClientMaxBodySize: "1mb",
  },
};

export default nextConfig;
