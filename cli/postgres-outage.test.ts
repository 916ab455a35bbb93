import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownCluster } from "@/lib/db/test-support/own-cluster";
import { POSTGRES_OFF } from "@/lib/db/test-support/postgres";
import { BEST, fingerprint, PRODUCTION, removeRegistry, sha, tempRegistry } from "@/lib/registry/test-support/fixture";

const BIN = resolve(__dirname, "bin.mjs");
const exec = promisify(execFile);
let root: string;
let cluster: ReturnType<typeof ownCluster>;

async function cli(env: Record<string, string>, ...args: string[]) {
  try {
    const { stdout, stderr } = await exec("node", [BIN, ...args, "--root", root], {
      env: { ...process.env, DATABASE_URL: "", REGISTRY_DATABASE_URL: cluster.url, ...env },
      encoding: "utf8",
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const temps = () => ["models", "metrics"].flatMap((d) => readdirSync(join(root, d)).filter((f) => f.startsWith(".production_latest.")));

// Its own PostgreSQL cluster (the machine's shared one is never stopped), stopped in the middle of a promotion.
describe.skipIf(POSTGRES_OFF)("PostgreSQL going away during a promotion", () => {
  beforeAll(() => {
    root = tempRegistry();
    cluster = ownCluster(55_000 + (process.pid % 5000));
    cluster.start();
  });
  afterAll(() => {
    cluster.remove();
    removeRegistry(root);
  });

  it("refuses with a clear error, leaves nothing half-written, and works again when the server is back", async () => {
    expect((await cli({}, "audit", "verify", "--json")).code).toBe(0);
    const before = fingerprint(root);
    // The promotion stops with the lock held and its files staged, just before recording its intent.
    const running = cli({ REGISTRY_FAULT: "pause:after_journal" }, "promote", "--json");
    const marker = join(root, ".registry", "paused-after_journal");
    await expect.poll(() => existsSync(marker), { timeout: 60_000 }).toBe(true);
    cluster.stop();
    const { rmSync } = await import("node:fs");
    rmSync(marker);
    const refused = await running;
    expect(refused.code).toBe(1);
    const { error } = JSON.parse(refused.stdout) as { error: { code: string; message: string } };
    expect(error.code).toBe("database_unavailable");
    expect(error.message).toMatch(/^Its intent could not be recorded in the audit log, so nothing was changed: the database cannot be reached\. Production was left as it was/);
    // Nothing half-written: the aliases, no temp file, no journal.
    expect(fingerprint(root)).toEqual(before);
    expect(temps()).toEqual([]);
    expect(existsSync(join(root, ".registry", "journal.json"))).toBe(false);

    // Down: a promotion refuses before taking the lock.
    const down = await cli({}, "promote");
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot be reached/);
    expect(down.stderr).not.toMatch(/at .*\.(m?js|ts):\d+/);
    expect(fingerprint(root)).toEqual(before);

    cluster.start();
    const ok = await cli({}, "promote", "--json");
    expect(ok.code, ok.stderr).toBe(0);
    expect(sha(join(root, "models/production_latest.joblib"))).toBe(sha(join(root, `models/${BEST}.joblib`)));
    const verify = JSON.parse((await cli({}, "audit", "verify", "--json")).stdout);
    expect(verify).toMatchObject({ ok: true });
    expect(PRODUCTION).not.toBe(BEST);
  });
});
