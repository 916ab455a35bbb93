// `npm start`'s server (run by scripts/start.sh after `npm run build`): Next's own production request handler
// (the documented custom-server API: next({ dev: false }).getRequestHandler()) behind a plain Node HTTP server
// that first decides, from the TCP connection, which address each request comes from. `next start` cannot:
// Next keeps any X-Forwarded-For a client sends, so the app could not tell a forged one from a proxy's.
// Arguments as `next start` takes them: -p/--port (default $PORT or 3000), -H/--hostname (default: every
// interface), --keepAliveTimeout MS.
import { createServer } from "node:http";
import { isIP } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { applyClientAddress, ProxyConfigError, trustedProxies } from "../lib/auth/client-address.mjs";

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

// As `next start` does (next/dist/bin/next): a production server on the Node.js runtime, whatever the shell says.
process.env.NODE_ENV = "production";
process.env.NEXT_RUNTIME = "nodejs";
const { default: next } = await import("next");
const app = next({ dev: false, dir: join(dirname(fileURLToPath(import.meta.url)), ".."), hostname: options.hostname, port });
await app.prepare();
const handle = app.getRequestHandler();

const server = createServer((req, res) => {
  applyClientAddress(req.headers, req.socket.remoteAddress, proxies);
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
