import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BEST, fingerprint, PRODUCTION, removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";

const BIN = resolve(__dirname, "bin.mjs");
let root: string;
let db: string;
beforeEach(() => {
  root = tempRegistry();
  db = join(tmpdir(), `disk-audit-${process.pid}-${Date.now()}.db`);
});
afterEach(() => {
  removeRegistry(root);
  rmSync(db, { force: true });
});

const cli = (dir: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync("node", [BIN, ...args, "--root", dir], { env: { ...process.env, DATABASE_URL: `file:${db}`, ...env }, encoding: "utf8" });

const temps = (dir: string) =>
  ["models", "metrics"].flatMap((d) => readdirSync(join(dir, d)).filter((f) => f.startsWith(".production_latest.")));

function lastEvent(dir: string) {
  return JSON.parse(cli(dir, ["audit", "list", "--json", "--limit", "1"]).stdout).events[0];
}

describe("disk trouble during a promotion leaves production untouched and says why", () => {
  it("a write that fails with ENOSPC mid-copy (fault switch)", () => {
    const before = fingerprint(root);
    const r = cli(root, ["promote"], { REGISTRY_FAULT: "enospc_during_copy" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the disk is full\. Production was left untouched/);
    expect(fingerprint(root)).toEqual(before);
    expect(temps(root)).toEqual([]);
    expect(lastEvent(root)).toMatchObject({ action: "model.promotion_failed", outcome: "failed", toStem: BEST });
  });

  // A real full file system: a small tmpfs made by the test (needs root, as CI on this machine has).
  const mountPoint = join(tmpdir(), `registry-tmpfs-${process.pid}`);
  const canMount = () => {
    mkdirSync(mountPoint, { recursive: true });
    return spawnSync("mount", ["-t", "tmpfs", "-o", "size=400k", "tmpfs", mountPoint]).status === 0;
  };

  it("a real full disk and a real read-only folder (tmpfs mounted by the test)", () => {
    if (!canMount()) {
      // Without mount rights the fault-switch test above is the proof; say so rather than pass silently.
      console.warn("mount not permitted here: real-disk variant not run");
      return;
    }
    try {
      const reg = join(mountPoint, "registry");
      mkdirSync(join(reg, "models"), { recursive: true });
      mkdirSync(join(reg, "metrics"), { recursive: true });
      for (const stem of [PRODUCTION, BEST]) {
        copyFileSync(join(root, "models", `${stem}.joblib`), join(reg, "models", `${stem}.joblib`));
        copyFileSync(join(root, "metrics", `${stem}.json`), join(reg, "metrics", `${stem}.json`));
      }
      copyFileSync(join(root, "models", `${PRODUCTION}.joblib`), join(reg, "models", "production_latest.joblib"));
      copyFileSync(join(root, "metrics", `${PRODUCTION}.json`), join(reg, "metrics", "production_latest.json"));
      // Take the lock once so its file exists, then fill the disk to the last byte.
      expect(cli(reg, ["rollback", "--to", PRODUCTION]).status).toBe(0);
      let i = 0;
      try {
        for (;;) writeFileSync(join(reg, `filler-${i++}`), Buffer.alloc(16 * 1024));
      } catch {
        // ENOSPC: the disk is full now.
      }
      for (;;) {
        try {
          writeFileSync(join(reg, `crumb-${i++}`), Buffer.alloc(256));
        } catch {
          break;
        }
      }
      const before = fingerprint(reg);
      const full = cli(reg, ["promote"]);
      expect(full.status).toBe(1);
      expect(full.stderr).toMatch(/disk is full|read-only or full/);
      expect(fingerprint(reg)).toEqual(before);
      expect(temps(reg)).toEqual([]);

      spawnSync("mount", ["-o", "remount,ro", mountPoint]);
      const ro = cli(reg, ["promote"]);
      expect(ro.status).toBe(1);
      expect(ro.stderr).toMatch(/read-only/);
      expect(fingerprint(reg)).toEqual(before);
    } finally {
      spawnSync("umount", [mountPoint]);
    }
  });
});
