import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { databaseFile } from "@/lib/audit/db-file";
import { acmeModelBytes } from "@/lib/inspect/test-support/pickle-builder";
import { BEST, removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";
import { main } from "./main";

// `registry trust …`: an in-house class can be trusted by exact name, never one that runs code; every change
// is audited with its reason, and taking a name off the list makes its models unsafe again in the same process.

let root: string;
const osUser = userInfo().username;
const STEM = "candidate_acme_20260101T000000Z";

beforeEach(() => {
  delete process.env.DATABASE_URL;
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../prisma/migrations");
  root = tempRegistry();
});
afterEach(() => removeRegistry(root));

async function run(...args: string[]) {
  const lines: string[] = [];
  let json: unknown = null;
  const code = await main([...args, "--root", root], {
    json: false,
    print: (t) => lines.push(t),
    printJson: (v) => {
      json = v;
    },
  });
  return { code, text: lines.join("\n"), json: json as Record<string, unknown> };
}

/** Adds a version whose model file imports acme_features.Winsorizer, scored above every other. */
function addAcmeVersion(): string {
  const file = join(root, "models", `${STEM}.joblib`);
  writeFileSync(file, acmeModelBytes());
  const metrics = JSON.parse(readFileSync(join(root, "metrics", `${BEST}.json`), "utf8"));
  metrics.artifact = `${STEM}.joblib`;
  metrics.metrics.roc_auc = 0.99;
  writeFileSync(join(root, "metrics", `${STEM}.json`), JSON.stringify(metrics));
  return file;
}

async function artifactSafe(): Promise<boolean | undefined> {
  const r = await run("promote", "--version", STEM, "--dry-run", "--json");
  const checks = (r.json.plan as { checks: { name: string; passed: boolean }[] } | undefined)?.checks ?? (r.json.checks as never);
  return (checks as { name: string; passed: boolean }[]).find((c) => c.name === "artifact_safe")?.passed;
}

describe("registry trust", () => {
  it("listing a fresh registry says the list is empty and creates no database", async () => {
    const r = await run("trust", "list", "--json");
    expect(r).toMatchObject({ code: 0, json: { trusted: [] } });
    expect(existsSync(databaseFile(root))).toBe(false);
  });

  it("trusting a class makes its model safe, by whom and when; removing it makes it unsafe again at once", async () => {
    const file = addAcmeVersion();
    const before = await run("inspect", file, "--json");
    expect(before).toMatchObject({ code: 3, json: { verdict: "unsafe" } });
    expect(await artifactSafe()).toBe(false);

    const added = await run(
      "trust",
      "add",
      "acme_features.Winsorizer",
      "--reason",
      "our clipping transformer, reviewed in PR 412",
      "--json",
    );
    expect(added).toMatchObject({ code: 0, json: { added: true, trusted: { path: "acme_features.Winsorizer", addedBy: osUser } } });
    const trusted = await run("inspect", file, "--json");
    expect(trusted.code).toBe(0);
    expect(trusted.json.globals).toEqual([
      { module: "acme_features", name: "Winsorizer", status: "trusted", nested: false, trust: { by: osUser, at: expect.any(String) } },
    ]);
    expect((await run("inspect", file)).text).toMatch(/trusted\s+acme_features\.Winsorizer \(trusted by registry policy: /);
    expect(await artifactSafe()).toBe(true);
    expect((await run("trust", "list")).text).toMatch(/acme_features\.Winsorizer .* our clipping transformer/);

    expect((await run("trust", "remove", "acme_features.Winsorizer", "--reason", "replaced by sklearn's own")).code).toBe(0);
    expect(await run("inspect", file, "--json")).toMatchObject({ code: 3, json: { verdict: "unsafe" } });
    expect(await artifactSafe()).toBe(false);

    const log = (await run("audit", "list", "--json", "--limit", "50")).json.events as { action: string; reason: string; actor: string }[];
    const trustEvents = log.filter((e) => e.action.startsWith("trust.")).reverse();
    expect(trustEvents.map((e) => [e.action, e.actor])).toEqual([
      ["trust.added", osUser],
      ["trust.removed", osUser],
    ]);
    expect(trustEvents[0]?.reason).toMatch(/reviewed in PR 412/);
    expect(trustEvents[1]?.reason).toMatch(/replaced by sklearn's own/);
  });

  it.each([
    "os.system",
    "posix.system",
    "subprocess.Popen",
    "builtins.eval",
    "builtins.exec",
    "builtins.getattr",
    "runpy.run_path",
    "pickle.loads",
    "marshal.loads",
    "importlib.import_module",
    "ctypes.CDLL",
  ])("refuses to trust %s (exit 3) and audits the refusal", async (path) => {
    const r = await run("trust", "add", path, "--reason", "please", "--json");
    expect(r.code).toBe(3);
    expect((r.json.error as { message: string }).message).toMatch(/deny list/);
    expect((await run("trust", "list", "--json")).json.trusted).toEqual([]);
    const log = (await run("audit", "list", "--json", "--action", "trust.change_refused")).json.events as { details: string }[];
    expect(log).toHaveLength(1);
    expect(JSON.parse(log[0]?.details ?? "{}")).toMatchObject({ path, requested: "add" });
  });

  it.each([
    ["acme_features.*", "a wildcard"],
    ["acme_features", "a module alone"],
    ["acme_features.", "a prefix"],
    ["acme features.Winsorizer", "not an identifier"],
  ])("refuses %s as bad usage (%s), before creating a database", async (path) => {
    const r = await run("trust", "add", path, "--reason", "because");
    expect(r.code).toBe(2);
    expect(existsSync(databaseFile(root))).toBe(false);
  });

  it("needs a reason, refuses a name already on the allowlist, and removing an unknown name is exit 2", async () => {
    expect((await run("trust", "add", "acme_features.Winsorizer")).code).toBe(2);
    expect((await run("trust", "add", "sklearn.pipeline.Pipeline", "--reason", "why not")).code).toBe(3);
    expect((await run("trust", "remove", "acme_features.Winsorizer", "--reason", "cleanup")).code).toBe(2);
  });
});

describe("registry inspect of a path that is not there", () => {
  it("is bad usage (exit 2), not a malformed file", async () => {
    const r = await run("inspect", join(root, "models", "no-such-file.joblib"), "--json");
    expect(r.code).toBe(2);
    expect((r.json.error as { code: string }).code).toBe("invalid_input");
  });
});
