import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli } from "../scripts/build-cli.mjs";

const REPO = resolve(__dirname, "..");
const SHIPPED = join(REPO, "cli", "dist", "registry.mjs");
const SCORE_KEYS = '["pr_auc", "average_precision", "roc_auc", "f1", "accuracy"]';
const RUN = "const { main } = await import(process.argv[1]); process.exitCode = await main(process.argv.slice(2));";

let root: string;
let variantDir: string;

interface Listed {
  best: string | null;
  versions: { stem: string; score: number | null; metric: string }[];
}

/** One real CLI process of the bundle at `bundle`, as CI runs it: it starts from what the last run saved. */
async function list(bundle: string): Promise<Listed> {
  const env = { ...process.env, REGISTRY_MIGRATIONS_DIR: join(REPO, "prisma", "migrations") };
  const args = ["--input-type=module", "-e", RUN, bundle, "list", "--root", root, "--json"];
  const { stdout } = await promisify(execFile)("node", args, { env, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as Listed;
}

const scores = (l: Listed) => Object.fromEntries(l.versions.map((v) => [v.stem, [v.metric, v.score]]));

// Issue 18: the CLI's saved scan trusted a file's score while its stat stamp was unchanged, whatever rule
// had computed it. Here the rule really changes (a CLI built with the score keys in another order) and the
// saved cache must not outlive it.
describe("the CLI's saved scan and the rule that made it", () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "registry-rule-"));
    mkdirSync(join(root, "models"));
    mkdirSync(join(root, "metrics"));
    const versions = { logreg_20250101T000000Z: { pr_auc: 0.6, roc_auc: 0.9 }, logreg_20250201T000000Z: { pr_auc: 0.7, roc_auc: 0.8 } };
    for (const [stem, metrics] of Object.entries(versions)) {
      writeFileSync(join(root, "models", `${stem}.joblib`), `model ${stem}`);
      writeFileSync(join(root, "metrics", `${stem}.json`), JSON.stringify(metrics));
    }
    // A variant of the shipped CLI whose rule ranks by roc_auc first: built by the same build, from the
    // same sources, with only the score keys' order changed (inside node_modules so its imports resolve).
    const cacheDir = join(REPO, "node_modules", ".cache");
    mkdirSync(cacheDir, { recursive: true });
    variantDir = mkdtempSync(join(cacheDir, "cli-rule-variant-"));
    const reorder = {
      name: "roc-auc-first",
      setup(build: { onLoad: (o: { filter: RegExp }, cb: (a: { path: string }) => { contents: string; loader: "ts" }) => void }) {
        build.onLoad({ filter: /lib[\\/]registry[\\/]metrics\.ts$/ }, ({ path }) => {
          const text = readFileSync(path, "utf8");
          if (!text.includes(SCORE_KEYS)) throw new Error("metrics.ts no longer declares SCORE_KEYS as this test expects");
          return { contents: text.replace(SCORE_KEYS, '["roc_auc", "pr_auc", "average_precision", "f1", "accuracy"]'), loader: "ts" };
        });
      },
    };
    await buildCli({ outdir: variantDir, plugins: [reorder] });
    // A scan remembers a file's facts only once the file has been still for a second (files.ts, settledAt).
    await new Promise((r) => setTimeout(r, 1100));
  }, 120_000);
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(variantDir, { recursive: true, force: true });
  });

  it("reads the files again when the rule changed, so the CLI never prints the old rule's scores", async () => {
    const shipped = await list(SHIPPED);
    expect(scores(shipped)).toEqual({ logreg_20250101T000000Z: ["pr_auc", 0.6], logreg_20250201T000000Z: ["pr_auc", 0.7] });
    expect(shipped.best).toBe("logreg_20250201T000000Z");
    // The shipped CLI saved its scan; nothing on disk changes from here on.
    expect(readFileSync(join(root, ".registry", "scan-cache.bin")).length).toBeGreaterThan(0);

    const variant = await list(join(variantDir, "registry.mjs"));
    expect(scores(variant)).toEqual({ logreg_20250101T000000Z: ["roc_auc", 0.9], logreg_20250201T000000Z: ["roc_auc", 0.8] });
    expect(variant.best).toBe("logreg_20250101T000000Z");

    // And back: the shipped rule again, not the variant's saved scores.
    const again = await list(SHIPPED);
    expect(scores(again)).toEqual(scores(shipped));
    expect(again.best).toBe("logreg_20250201T000000Z");
  });
});
