import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = "/usr/lib/postgresql/15/bin";

/**
 * A PostgreSQL cluster of a test's own, in a temp folder on its own port, so the test can stop and start
 * the server without touching the machine's shared one. initdb refuses root: as root it runs as the
 * `postgres` system user. Returns its URL and start/stop/remove.
 */
export function ownCluster(port: number) {
  const dir = mkdtempSync(join(tmpdir(), "own-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  const asOwner = (cmd: string, args: string[]) => {
    const full = [join(BIN, cmd), ...args];
    if (process.getuid?.() === 0) execFileSync("runuser", ["-u", "postgres", "--", ...full], { stdio: "pipe" });
    else execFileSync(full[0] as string, full.slice(1), { stdio: "pipe" });
  };
  asOwner("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    start: () => asOwner("pg_ctl", ["-D", data, "-w", "-o", options, "-l", join(dir, "log"), "start"]),
    /** Fast shutdown: open connections are ended, as when a database server goes down. */
    stop: () => asOwner("pg_ctl", ["-D", data, "-w", "-m", "fast", "stop"]),
    remove: () => {
      try {
        asOwner("pg_ctl", ["-D", data, "-w", "-m", "immediate", "stop"]);
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
