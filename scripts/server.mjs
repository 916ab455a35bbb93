// `npm start`'s server (run by scripts/start.sh after `npm run build`): Next's own production request handler
// (the documented custom-server API: next({ dev: false }).getRequestHandler()) behind a plain Node HTTP server
// that first decides, from the TCP connection, which address each request comes from and which headers it may
// carry. `next start` cannot: Next keeps any X-Forwarded-For or X-Forwarded-User a client sends, so the app
// could not tell a forged one from a proxy's. Only peers named in REGISTRY_TRUSTED_PROXIES may send the
// forwarded headers or, with REGISTRY_AUTH_PROXY=1, say who is signed in (lib/auth/vetted-request.mjs).
// Arguments as `next start` takes them: -p/--port (default $PORT or 3000), -H/--hostname (default: every
// interface), --keepAliveTimeout MS.
import { createServer } from "node:http";
import { isIP } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ProxyConfigError, trustedProxies } from "../lib/auth/client-address.mjs";
import { identityHeaderNames, startVetting, vetRequest } from "../lib/auth/vetted-request.mjs";

const usage = "Usage: npm start -- [-p PORT] [-H HOSTNAME] [--keepAliveTimeout MS]";
let options;
try {
  ({ values: options } = parseArgs({
    options: {
      port: { type: "string", short: "p" },
      hostname: { type: "string", short: "H" },
      keepAliveTimeout: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (e) {
  console.error(`${e.message}\n${usage}`);
  process.exit(2);
}
if (options.help) {
  console.log(usage);
  process.exit(0);
}
const port = Number(options.port ?? process.env.PORT ?? 3000);
const keepAliveTimeout = options.keepAliveTimeout === undefined ? undefined : Number(options.keepAliveTimeout);
if (!Number.isInteger(port) || port < 0 || port > 65535 || (keepAliveTimeout !== undefined && !(keepAliveTimeout >= 0))) {
  console.error(`Not a port or a timeout in milliseconds.\n${usage}`);
  process.exit(2);
}

let proxies;
try {
  proxies = trustedProxies(process.env);
} catch (e) {
  if (!(e instanceof ProxyConfigError)) throw e;
  console.error(e.message);
  process.exit(2);
}
// Fail closed: sign-in by proxy headers with no proxy to believe them from would let anyone say who they are.
const proxySignIn = process.env.REGISTRY_AUTH_PROXY === "1";
if (proxySignIn && proxies.ranges.length === 0) {
  console.error(
    "REGISTRY_AUTH_PROXY=1 needs REGISTRY_TRUSTED_PROXIES: name the reverse proxy that signs people in (its address or range as this " +
      'server sees it, e.g. REGISTRY_TRUSTED_PROXIES=127.0.0.1 or "loopback"); its identity headers are believed from it alone.',
  );
  process.exit(2);
}
const vetting = startVetting(process.env, proxies);

// As `next start` does (next/dist/bin/next): a production server on the Node.js runtime, whatever the shell says.
process.env.NODE_ENV = "production";
process.env.NEXT_RUNTIME = "nodejs";
const { default: next } = await import("next");
const app = next({ dev: false, dir: join(dirname(fileURLToPath(import.meta.url)), ".."), hostname: options.hostname, port });
await app.prepare();
const handle = app.getRequestHandler();

const server = createServer((req, res) => {
  vetRequest(req.headers, req.socket.remoteAddress, vetting);
  handle(req, res).catch((e) => {
    console.error(`Failed to handle request for ${req.url}`, e);
    if (!res.headersSent) res.statusCode = 500;
    res.end();
  });
});
if (keepAliveTimeout !== undefined) server.keepAliveTimeout = keepAliveTimeout;
server.on("error", (e) => {
  console.error(`Failed to start the server: ${e.message}`);
  process.exit(1);
});
server.listen(port, options.hostname, () => {
  const { address, port: bound } = server.address();
  const shown = isIP(address) === 6 ? `[${address}]` : address;
  const everywhere = address === "0.0.0.0" || address === "::";
  console.log(`▲ Listening on http://${everywhere ? "localhost" : shown}:${bound}`);
  console.log(
    everywhere
      ? `  on every network interface (${shown}): anyone who can reach this machine can open the sign-in page.`
      : isLoopback(address)
        ? "  on this machine only (-H 0.0.0.0 listens on every interface)."
        : `  on ${shown} only.`,
  );
  console.log(
    proxies.ranges.length > 0
      ? `  Client addresses: X-Forwarded-For from the trusted proxies ${proxies.ranges.join(", ")}; the connection's otherwise.`
      : "  Client addresses: the connection's (no trusted proxy: REGISTRY_TRUSTED_PROXIES is not set).",
  );
  if (proxySignIn) {
    const { user, groups } = identityHeaderNames(process.env);
    console.log(`  Sign-in by proxy (REGISTRY_AUTH_PROXY=1): ${user} and ${groups} believed from the trusted proxies only.`);
  }
  if (process.env.REGISTRY_TRUST_PROXY === "1" && !process.env.REGISTRY_TRUSTED_PROXIES) {
    console.log("  REGISTRY_TRUST_PROXY=1 is read as REGISTRY_TRUSTED_PROXIES=loopback: name your proxies there.");
  }
});

function isLoopback(address) {
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    app.close().finally(() => process.exit(0));
  });
}
