import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

/**
 * Dashboard replicas as a team runs them: several `npm start` servers (scripts/start.sh) on their own
 * ports over ONE registry folder and ONE PostgreSQL database. The folder is a fresh copy of the demo
 * registry under E2E_DIR/replicas; the database is the caller's throwaway one.
 */
export interface Replica {
  url: string;
  /** The server's process group: the script and the node server it execs. */
  pid: number;
  /** The exit code, or the signal that ended it. */
  exited: Promise<number | string>;
  output: () => string;
  stop: () => Promise<void>;
}

export function sharedFolder(): string {
  const base = process.env.E2E_DIR;
  if (!base?.startsWith("/tmp/")) throw new Error("E2E_DIR must be a throwaway folder under /tmp");
  const dir = join(base, "replicas");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(process.cwd(), "artifacts"), join(dir, "registry"), { recursive: true, filter: (src) => !src.includes("/.registry") });
  return join(dir, "registry");
}

/** The real CLI on the shared folder and database, as a pipeline on a third machine would run it. */
export function replicaCli(root: string, url: string, args: string[], input?: string) {
  return spawnSync("node", [join(process.cwd(), "cli", "bin.mjs"), ...args, "--root", root], {
    encoding: "utf8",
    input,
    env: { ...process.env, DATABASE_URL: "", REGISTRY_DATABASE_URL: url },
  });
}

export async function startReplica(port: number, root: string, url: string, env: Record<string, string> = {}): Promise<Replica> {
  const child: ChildProcess = spawn("bash", [join(process.cwd(), "scripts", "start.sh"), "-p", String(port), "-H", "127.0.0.1"], {
    env: { ...process.env, REGISTRY_ROOT: root, DATABASE_URL: "", REGISTRY_DATABASE_URL: url, NEXT_TELEMETRY_DISABLED: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout?.on("data", (c) => {
    output += c;
  });
  child.stderr?.on("data", (c) => {
    output += c;
  });
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  const base = `http://127.0.0.1:${port}`;
  // Ready when it answers its health check (which reads the database), as a load balancer would wait.
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`replica on ${port} exited:\n${output}`);
    const ok = await fetch(`${base}/api/health`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`replica on ${port} not healthy in 90 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url: base,
    pid: child.pid as number,
    exited,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid as number), "SIGTERM");
      await exited;
    },
  };
}
