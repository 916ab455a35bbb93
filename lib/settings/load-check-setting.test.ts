import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Actor, allEvents, closeAudit, openAudit } from "@/lib/audit";
import { loadCheckPolicyFromEnv, runLoadCheck } from "@/lib/load-check";
import { BEST, removeRegistry, sha, tempRegistry } from "@/lib/registry/test-support/fixture";
import { changeSetting, loadCheckPolicyOf, readSettings } from "./settings";

// The load-and-predict check's setting: the environment (REGISTRY_LOAD_CHECK) pins it, else the dashboard's
// stored value applies, else "on" (a check that could not run does not block).
const ADMIN: Actor = { name: "root-admin", role: "admin", source: "web" };
let root: string;

beforeEach(() => {
  delete process.env.DATABASE_URL;
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../../prisma/migrations");
  root = tempRegistry();
});
afterEach(async () => {
  await closeAudit();
  removeRegistry(root);
});

describe("the load-check setting", () => {
  it("is on by default, and a registry with no database is not given one by asking", async () => {
    expect(await loadCheckPolicyOf(root, {})).toEqual({ mode: "on", source: "default" });
    expect(existsSync(join(root, ".registry", "audit.db"))).toBe(false);
    expect(await loadCheckPolicyOf(root, { REGISTRY_LOAD_CHECK: "required" })).toEqual({ mode: "required", source: "env" });
  });

  it("takes the admin's stored value, audited with the old and new value; the environment may only tighten it", async () => {
    const db = openAudit(root);
    expect((await changeSetting(db, ADMIN, "loadCheck", "required", {})).changed).toBe(true);
    expect(await loadCheckPolicyOf(root, {})).toEqual({ mode: "required", source: "database" });
    expect((await readSettings(db, {})).loadCheck).toMatchObject({ value: "required", source: "database", updatedBy: "root-admin" });
    const changed = (await allEvents(db)).filter((e) => e.action === "settings.changed");
    expect(changed).toHaveLength(1);
    expect(JSON.parse(changed[0]!.details)).toMatchObject({ key: "loadCheck", old: "on", new: "required", oldSource: "default" });

    // The environment may only tighten the dashboard's value: looser is ignored, stricter applies and cannot be loosened here.
    expect(await loadCheckPolicyOf(root, { REGISTRY_LOAD_CHECK: "off" })).toEqual({ mode: "required", source: "database" });
    expect((await readSettings(db, { REGISTRY_LOAD_CHECK: "off" })).loadCheck.ignored).toMatch(/REGISTRY_LOAD_CHECK=off is ignored/);
    await changeSetting(db, ADMIN, "loadCheck", "off", {});
    const pinned = { REGISTRY_LOAD_CHECK: "on" };
    expect(await loadCheckPolicyOf(root, pinned)).toEqual({ mode: "on", source: "env" });
    await expect(changeSetting(db, ADMIN, "loadCheck", "off", pinned)).rejects.toMatchObject({ code: "setting_pinned" });
    expect((await allEvents(db)).map((e) => e.action)).toContain("settings.change_refused");
    await expect(changeSetting(db, ADMIN, "loadCheck", "sometimes", {})).rejects.toMatchObject({ code: "invalid_input" });
  });

  it("fails closed on an environment value it does not understand, the same way with or without a database", async () => {
    for (const text of ["yes", "1", "disabled"]) {
      expect(loadCheckPolicyFromEnv({ REGISTRY_LOAD_CHECK: text })).toEqual({ mode: "required", source: "env" });
      expect(await loadCheckPolicyOf(root, { REGISTRY_LOAD_CHECK: text })).toEqual({ mode: "required", source: "env" });
    }
    await changeSetting(openAudit(root), ADMIN, "loadCheck", "off", {});
    // Over a stored "off", every environment value is at least as strict, so it applies (and "" is unset).
    for (const text of ["off", "on", "required", " Required ", ""]) {
      const env = { REGISTRY_LOAD_CHECK: text };
      expect(await loadCheckPolicyOf(root, env)).toEqual(text.trim() ? loadCheckPolicyFromEnv(env) : { mode: "off", source: "database" });
    }
  });

  it("decides what the check does: off never loads, required blocks a check that could not run", async () => {
    const model = { file: `models/${BEST}.joblib`, sha256: sha(join(root, `models/${BEST}.joblib`)), stem: BEST };
    const off = await runLoadCheck(root, model, "safe", { mode: "off", source: "database" });
    expect(off).toMatchObject({ status: "not_run", notRunBlocks: false });
    expect(off.detail).toBe("Not run: switched off in the registry settings (Load-and-predict check: off).");
    const saved = process.env.REGISTRY_LOAD_PYTHON;
    process.env.REGISTRY_LOAD_PYTHON = "/definitely/not/python3";
    try {
      expect(await runLoadCheck(root, model, "safe", { mode: "required", source: "database" })).toMatchObject({
        status: "not_run",
        notRunBlocks: true,
      });
      expect(await runLoadCheck(root, model, "safe", { mode: "on", source: "default" })).toMatchObject({ notRunBlocks: false });
    } finally {
      process.env.REGISTRY_LOAD_PYTHON = saved;
    }
  });
});
