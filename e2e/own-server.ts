import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

/**
 * A second, short-lived server for journeys the shared one cannot host (an empty registry, the demo's own
 * start): a fresh copy of the demo registry with no accounts and its own database, on a port the system
 * chooses (-p 0), so it never collides with anything. Stop it with `stop()`.
 */
export interface OwnServer {
  url: string;
  dir: string;
  output: () => string;
  stop: () => Promise<void>;
}

export async function startOwnServer(
  name: string,
  command: string[],
  env: Record<string, string> = {},
  listening = /http:\/\/(?:127\.0\.0\.1|localhost):(\d+)/,
  /** false: start again over the registry and database an earlier server of this name left (a restart). */
  fresh = true,
): Promise<OwnServer> {
  const base = process.env.E2E_DIR;
  if (!base?.startsWith("/tmp/")) throw new Error("E2E_DIR must be a throwaway folder under /tmp");
  const dir = join(base, name);
  if (fresh) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    cpSync(join(process.cwd(), "artifacts"), join(dir, "registry"), { recursive: true, filter: (src) => !src.includes("/.registry") });
  }
  const child: ChildProcess = spawn(command[0] as string, command.slice(1), {
    cwd: process.cwd(),
    env: {
      ...process.env,
      REGISTRY_ROOT: join(dir, "registry"),
      DATABASE_URL: `file:${join(dir, "audit.db")}`,
      NEXT_TELEMETRY_DISABLED: "1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no listening line in 60 s:\n${output}`)), 60_000);
    const seen = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const m = output.match(listening);
      if (m?.[1] && m[1] !== "0") {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on("data", seen);
    child.stderr?.on("data", seen);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    dir,
    output: () => output,
    stop: async () => {
      // The whole process group: the script and the node server it started.
      if (child.exitCode === null && child.pid) process.kill(-child.pid, "SIGTERM");
      await exited;
    },
  };
}
