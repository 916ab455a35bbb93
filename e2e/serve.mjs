// Starts the server as `npm start` does (scripts/start.sh: scripts/server.mjs with its memory settings) over a
// fresh throwaway registry and database, so e2e runs never touch real data. It trusts one proxy, 127.0.0.9 (a
// loopback address the specs can connect from), and makes the first sign-in wait ten minutes, so limit tests
// see every wait as a refusal however slow the machine is.
// It also creates one account per role (throwaway passwords, known to the specs through e2e/accounts.ts).
import { execFileSync, spawn } from "node:child_process";
import { cpSync, createWriteStream, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const port = process.argv[2] ?? "3107";
const dir = process.env.E2E_DIR;
if (!dir?.startsWith("/tmp/")) {
  console.error("E2E_DIR must be a throwaway folder under /tmp");
  process.exit(2);
}
const repo = join(import.meta.dirname, "..");
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
cpSync(join(repo, "artifacts"), join(dir, "registry"), { recursive: true, filter: (src) => !src.includes("/.registry") });

// releaser2 is the second releaser of the two-person rule's journeys (e2e/approval-*.spec.ts).
const ACCOUNTS = { admin: "admin", releaser: "releaser", releaser2: "releaser", viewer: "viewer", auditor: "auditor" };
for (const [name, role] of Object.entries(ACCOUNTS)) {
  execFileSync(
    "node",
    [join(repo, "cli/bin.mjs"), "users", "add", name, "--role", role, "--password-stdin", "--root", join(dir, "registry")],
    {
      input: `${name}-e2e-password`,
      stdio: ["pipe", "ignore", "inherit"],
    },
  );
}

const child = spawn("bash", [join(repo, "scripts", "start.sh"), "-p", port, "-H", "127.0.0.1"], {
  stdio: ["inherit", "pipe", "pipe"],
  env: { ...process.env, REGISTRY_TRUSTED_PROXIES: "127.0.0.9", REGISTRY_SIGNIN_BACKOFF_SECONDS: "600" },
});
// The server's output is shown as before and kept in E2E_DIR/server.log, so specs can check what it logged.
const log = createWriteStream(join(dir, "server.log"));
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  log.write(chunk);
});
child.stderr.on("data", (chunk) => {
  process.stderr.write(chunk);
  log.write(chunk);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
