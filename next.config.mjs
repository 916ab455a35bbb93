// Plain JavaScript on purpose: a next.config.ts makes `next start` load the SWC compiler (24 MB of
// resident memory in the server, measured) just to read this file.

/** @type {import("next").NextConfig} */
const nextConfig = {
  // Native SQLite bindings must be loaded by Node at run time, not bundled.
  serverExternalPackages: ["better-sqlite3", "@prisma/adapter-better-sqlite3", "@node-rs/argon2"],
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
