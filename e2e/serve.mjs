// Starts `next start` over a fresh throwaway registry and database, so e2e runs never touch real data.
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const port = process.argv[2] ?? "3107";
const dir = process.env.E2E_DIR;
if (!dir?.startsWith("/tmp/")) {
  console.error("E2E_DIR must be a throwaway folder under /tmp");
  process.exit(2);
}
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
cpSync(join(import.meta.dirname, "..", "artifacts"), join(dir, "registry"), {
  recursive: true,
  filter: (src) => !src.includes("/.registry"),
});
const child = spawn("npx", ["next", "start", "-p", port, "-H", "127.0.0.1"], { stdio: "inherit" });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
