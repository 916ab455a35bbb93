import { execFile, execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeAudit, openAudit } from "@/lib/audit";
import { BEST, PRODUCTION, removeRegistry, sha, tempRegistry } from "@/lib/registry/test-support/fixture";
import { changeSetting } from "@/lib/settings/settings";

// The loads_and_predicts gate as a release manager meets it, through the real CLI with Debian's Python
// (python3-sklearn, installed by scripts/test.sh): a model that the static inspector calls safe but that
// cannot predict is refused until someone overrides it with a reason.
const BIN = resolve(__dirname, "bin.mjs");
const BROKEN = "candidate_logreg_20251201T000000Z";
let root: string;

interface Outcome {
  code: number;
  json: { promoted: boolean; checks: { name: string; passed: boolean; detail: string; overridden: boolean }[] };
}

async function registry(...args: string[]): Promise<Outcome> {
  return registryWith({}, ...args);
}

async function registryWith(extra: Record<string, string>, ...args: string[]): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REGISTRY_LOAD_PYTHON: "/usr/bin/python3",
    REGISTRY_MIGRATIONS_DIR: resolve(__dirname, "../prisma/migrations"),
    ...extra,
  };
  delete env.DATABASE_URL;
  try {
    const { stdout } = await promisify(execFile)("node", [BIN, ...args, "--root", root, "--json"], { env, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, json: JSON.parse(stdout) };
  } catch (e) {
    const err = e as { code: number; stdout: string };
    return { code: err.code, json: JSON.parse(err.stdout) };
  }
}

const check = (o: Outcome) => o.json.checks.find((c) => c.name === "loads_and_predicts");

describe("registry promote with the loads_and_predicts check", () => {
  beforeAll(() => {
    root = tempRegistry();
    // Fitted nothing, with production's columns: every global is an allowed scikit-learn class and the schema
    // matches, so only loading it shows that it cannot predict.
    execFileSync("/usr/bin/python3", [
      "-c",
      "import joblib, sys\nfrom sklearn.linear_model import LogisticRegression\nlive = joblib.load(sys.argv[2])\n" +
        "joblib.dump({'model': LogisticRegression(), 'cat_cols': live['cat_cols'], 'num_cols': live['num_cols']}, sys.argv[1])",
      join(root, "models", `${BROKEN}.joblib`),
      join(root, "models", `${PRODUCTION}.joblib`),
    ]);
    writeFileSync(join(root, "metrics", `${BROKEN}.json`), JSON.stringify({ pr_auc: 0.99 }));
  });
  afterAll(async () => {
    await closeAudit();
    removeRegistry(root);
  });

  it("passes the demo's best model, loaded and asked to predict in the sandbox", async () => {
    const out = await registry("promote", "--version", BEST, "--dry-run");
    expect(out.code).toBe(0);
    expect(check(out)).toMatchObject({ passed: true, detail: expect.stringMatching(/^Loaded in .* predict_proba gave 5×2 values/) });
  });

  it("refuses a model that loads but cannot predict, and lets a release manager override it with a reason", async () => {
    const refused = await registry("promote", "--version", BROKEN, "--dry-run");
    expect(refused.code).toBe(3);
    expect(check(refused)).toMatchObject({ passed: false, detail: expect.stringContaining("NotFittedError") });
    expect(refused.json.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(["loads_and_predicts"]);
    const before = sha(join(root, "models", "production_latest.joblib"));
    expect(before).toBe(sha(join(root, "models", `${PRODUCTION}.joblib`)));

    const overridden = await registry(
      "promote",
      "--version",
      BROKEN,
      "--override",
      "loads_and_predicts",
      "--reason",
      "serving wraps it",
      "--actor",
      "rm",
    );
    expect(overridden.code).toBe(0);
    expect(check(overridden)).toMatchObject({ passed: false, overridden: true });
    expect(sha(join(root, "models", "production_latest.joblib"))).toBe(sha(join(root, "models", `${BROKEN}.joblib`)));
  });

  it("honours the registry's setting from the dashboard, which REGISTRY_LOAD_CHECK may only tighten", async () => {
    // A registry of its own: the journey above changed production.
    const shared = root;
    root = tempRegistry();
    try {
      await settingJourney();
    } finally {
      await closeAudit();
      removeRegistry(root);
      root = shared;
    }
  });
});

async function settingJourney() {
  delete process.env.DATABASE_URL;
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../prisma/migrations");
  const admin = { name: "root-admin", role: "admin", source: "web" as const };
  const noPython = { REGISTRY_LOAD_PYTHON: "/definitely/not/python3", REGISTRY_LOAD_CHECK: "" };

  // Default ("on"): a check that could not run is said, and does not block.
  const advisory = await registryWith(noPython, "promote", "--version", BEST, "--dry-run");
  expect(advisory.code).toBe(0);
  expect(check(advisory)).toMatchObject({
    passed: true,
    detail: expect.stringMatching(/^Not run: \/definitely\/not\/python3 was not found/),
  });

  // "required", stored by an admin: the same check now blocks.
  await changeSetting(openAudit(root), admin, "loadCheck", "required", {});
  const required = await registryWith(noPython, "promote", "--version", BEST, "--dry-run");
  expect(required.code).toBe(3);
  expect(check(required)).toMatchObject({ passed: false, detail: expect.stringMatching(/^Not run: /) });

  // A caller's environment may only tighten the stored setting: "on" does not loosen "required".
  const looser = await registryWith({ ...noPython, REGISTRY_LOAD_CHECK: "on" }, "promote", "--version", BEST, "--dry-run");
  expect(looser.code).toBe(3);
  await changeSetting(openAudit(root), admin, "loadCheck", "on", {});
  const stricter = await registryWith({ ...noPython, REGISTRY_LOAD_CHECK: "required" }, "promote", "--version", BEST, "--dry-run");
  expect(stricter.code).toBe(3);

  await changeSetting(openAudit(root), admin, "loadCheck", "off", {});
  const off = await registryWith({ REGISTRY_LOAD_CHECK: "" }, "show", BEST);
  expect((off.json as unknown as { checks: Outcome["json"]["checks"] }).checks.find((c) => c.name === "loads_and_predicts")).toMatchObject({
    passed: true,
    detail: "Not run: switched off in the registry settings (Load-and-predict check: off).",
  });
}
