import { resolve } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closeAudit, openAudit } from "@/lib/audit";
import { removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";
import { splitPath, trustPolicy, whyUntrustable } from "./trust-list";

let root: string;
beforeAll(() => {
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../../prisma/migrations");
});
beforeEach(() => {
  delete process.env.DATABASE_URL;
  root = tempRegistry();
});
afterEach(async () => {
  await closeAudit();
  removeRegistry(root);
});

describe("the trust list's table", () => {
  it("matches schema.prisma: every field round-trips through the client on a freshly migrated database", async () => {
    const db = openAudit(root);
    const row = {
      path: "acme.features.Winsorizer",
      module: "acme.features",
      name: "Winsorizer",
      reason: "ours",
      addedBy: "ada",
      addedAt: "2026-12-05T10:00:00.000Z",
    };
    await db.trustedGlobal.create({ data: row });
    expect(await db.trustedGlobal.findUniqueOrThrow({ where: { path: row.path } })).toEqual(row);
    expect(await trustPolicy(db)).toEqual({ trusted: [{ module: "acme.features", name: "Winsorizer", by: "ada", at: row.addedAt }] });
  });
});

describe("what can be trusted", () => {
  it("splits at the last dot: the name pickle looks up in its module", () => {
    expect(splitPath("acme.features.Winsorizer")).toEqual({ module: "acme.features", name: "Winsorizer" });
  });

  it.each([
    "os.system",
    "os.path.join",
    "subprocess.run",
    "builtins.eval",
    "__builtin__.eval",
    "builtins.__import__",
    "acme.__class__",
    "numpy.load",
    "torch.load",
    "shutil.rmtree",
  ])("never %s", (path) => {
    expect(whyUntrustable(path)).not.toBeNull();
  });

  it("an in-house class, but not one already allowed", () => {
    expect(whyUntrustable("acme_features.Winsorizer")).toBeNull();
    expect(whyUntrustable("sklearn.pipeline.Pipeline")).toMatch(/already on the built-in allowlist/);
  });
});
