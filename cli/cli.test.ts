import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BEST, fingerprint, PRODUCTION, removeRegistry, sha, tempRegistry } from "@/lib/registry/test-support/fixture";
import { main } from "./main";

let root: string;
beforeEach(() => {
  delete process.env.DATABASE_URL;
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../prisma/migrations");
  root = tempRegistry();
});
afterEach(() => removeRegistry(root));

/** Runs the CLI in-process and captures what it prints. */
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

describe("registry CLI contract", () => {
  it("list --json has production, best, versions and problems with the documented keys", async () => {
    const { code, json } = await run("list", "--json");
    expect(code).toBe(0);
    expect(json.production).toMatchObject({ stem: PRODUCTION, state: "ok", sha256: sha(join(root, "models/production_latest.joblib")) });
    expect(json.best).toBe(BEST);
    const versions = json.versions as Record<string, unknown>[];
    expect(versions).toHaveLength(9);
    expect(Object.keys(versions[0]!)).toEqual(
      expect.arrayContaining(["stem", "modelType", "timestamp", "score", "metric", "sha256", "isProduction"]),
    );
    expect(json.problems).toEqual([
      expect.objectContaining({ file: "metrics/candidate_logreg_20250912T150000Z.json", reason: "orphan_metrics" }),
    ]);
  });

  it("promote --dry-run prints the plan and writes nothing; promote then makes a byte-identical pair", async () => {
    const before = fingerprint(root);
    const dry = await run("promote", "--dry-run", "--json");
    expect(dry.code).toBe(0);
    expect(dry.json).toMatchObject({ promoted: false, from: PRODUCTION, to: BEST, metric: "pr_auc", score: 0.653188, dryRun: true });
    expect((dry.json.checks as { name: string }[]).map((c) => c.name)).toEqual([
      "metrics_exist",
      "min_score",
      "no_degradation",
      "artifact_readable",
      "artifact_safe",
      "feature_schema",
    ]);
    expect(fingerprint(root)).toEqual(before);

    const real = await run("promote", "--json", "--actor", "ci-bot");
    expect(real.code).toBe(0);
    expect(real.json).toMatchObject({ promoted: true, from: PRODUCTION, to: BEST, dryRun: false });
    expect(sha(join(root, "models/production_latest.joblib"))).toBe(sha(join(root, `models/${BEST}.joblib`)));
    expect(sha(join(root, "metrics/production_latest.json"))).toBe(sha(join(root, `metrics/${BEST}.json`)));

    const again = await run("promote", "--json");
    expect(again).toMatchObject({ code: 0, json: { promoted: false, noop: true } });
  });

  it("exits 3 when a check refuses, and 0 with an override and a reason", async () => {
    const low = "baseline_logreg_20250114T091500Z";
    const before = fingerprint(root);
    const refused = await run("promote", "--version", low, "--json");
    expect(refused.code).toBe(3);
    expect(refused.json).toMatchObject({ promoted: false, refused: true });
    expect(fingerprint(root)).toEqual(before);
    expect((await run("promote", "--version", low, "--min-score", "0.5")).code).toBe(0);
  });

  it("exits 2 for bad usage, unknown versions and traversal", async () => {
    for (const args of [
      ["promote", "--version", "nope_20250101T000000Z"],
      ["promote", "--version", "../../etc/passwd"],
      ["show", "%2e%2e%2fx"],
      ["promote", "--override", "min_score"],
      ["promote", "--override", "metrics_exist", "--reason", "x"],
      ["promote", "--min-score", "high"],
      ["promote", "--frobnicate"],
      ["rollback"],
      ["nonsense"],
    ]) {
      expect((await run(...args)).code, args.join(" ")).toBe(2);
    }
  });

  it("exits 3 with the seed's message when there is nothing to promote", async () => {
    const { rmSync, readdirSync } = await import("node:fs");
    for (const f of readdirSync(join(root, "metrics"))) rmSync(join(root, "metrics", f));
    const r = await run("promote", "--json");
    expect(r.code).toBe(3);
    expect(JSON.stringify(r.json)).toMatch(
      /No candidates found for promotion: training must write both .joblib and .json with matching names/,
    );
  });

  it("rolls back to the previous production from the audit log, and the chain verifies", async () => {
    expect((await run("promote")).code).toBe(0);
    const back = await run("rollback", "--previous", "--json", "--reason", "pager alert");
    expect(back.code).toBe(0);
    expect(back.json).toMatchObject({ rolledBack: true, from: BEST, to: PRODUCTION });
    expect(sha(join(root, "models/production_latest.joblib"))).toBe(sha(join(root, `models/${PRODUCTION}.joblib`)));
    const verify = await run("audit", "verify", "--json");
    expect(verify).toMatchObject({ code: 0, json: { ok: true, count: 4 } });
  });
});

describe("registry show on hostile metrics files", () => {
  const add = async (stem: string, metrics: string) => {
    const { copyFileSync, writeFileSync } = await import("node:fs");
    copyFileSync(join(root, `models/${BEST}.joblib`), join(root, `models/${stem}.joblib`));
    writeFileSync(join(root, `metrics/${stem}.json`), metrics);
  };

  it("prints values nested 100,000 levels deep as such, in text and in JSON, and exits 0", async () => {
    const stem = "deep_20250601T000000Z";
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    await add(stem, `{"metrics": {"pr_auc": 0.5, "curve": ${deep}}, "hyperparameters": {"layers": ${deep}, "C": 1}, "lineage": ${deep}}`);
    const text = await run("show", stem);
    expect(text.code).toBe(0);
    // Kept as far down as MAX_NESTING, then named: [[[…["… nested deeper than 32 levels: see the metrics file"]…]]]
    expect(text.text).toMatch(/layers\s+\[+\\?"… nested deeper than \d+ levels: see the metrics file\\?"\]+\n/);
    expect(text.text).toMatch(/C\s+1\n/);
    const json = await run("show", stem, "--json");
    expect(json.code).toBe(0);
    const printed = JSON.parse(JSON.stringify(json.json)) as { version: { metrics: { hyperparameters: Record<string, unknown> } } };
    expect(JSON.stringify(printed.version.metrics.hyperparameters.layers)).toMatch(/nested deeper than \d+ levels/);
  });

  it("prints at most a few hundred lines of a 150,000-key file, pointing at the file for the rest", async () => {
    const stem = "wide_20250601T000000Z";
    const keys = Array.from({ length: 150_000 }, (_, i) => `"m${i}": 0.5`);
    await add(stem, `{"metrics": {"pr_auc": 0.5, ${keys.join(",")}}, "hyperparameters": {"note": "${"n".repeat(100_000)}"}}`);
    const text = await run("show", stem);
    expect(text.code).toBe(0);
    expect(text.text.split("\n").length).toBeLessThan(500);
    expect(text.text.length).toBeLessThan(50_000);
    expect(text.text).toContain(`… 149,801 more metrics: see metrics/${stem}.json`);
    expect(text.text).toMatch(/note\s+"n+"… \(99,700 characters more\)/);
    const json = await run("show", stem, "--json");
    expect(json.json).toMatchObject({ metricChangesOmitted: expect.any(Number) });
    expect((json.json.metricChanges as unknown[]).length).toBe(200);
    expect(json.json.metricChanges).toContainEqual(expect.objectContaining({ metric: "pr_auc", to: 0.5 }));

    // Promoted anyway: the audit event records the bounded list, not 150,000 entries.
    const promoted = await run("promote", "--version", stem, "--override", "min_score", "--override", "no_degradation", "--reason", "load test");
    expect(promoted.code).toBe(0);
    const audit = await run("audit", "list", "--action", "model.promoted", "--json");
    const event = (audit.json.events as { details: unknown }[])[0];
    const details = (typeof event?.details === "string" ? JSON.parse(event.details) : event?.details) as Record<string, unknown[]>;
    expect(details.metricChanges).toHaveLength(200);
    expect(JSON.stringify(event).length).toBeLessThan(60_000);
  });
});

describe("the installed entry point", () => {
  it("promotes on a fresh registry with no database yet, creating it on first use", async () => {
    const bin = resolve(__dirname, "bin.mjs");
    expect(existsSync(join(root, ".registry"))).toBe(false);
    const { stdout } = await promisify(execFile)("node", [bin, "promote", "--root", root, "--json"], {
      env: { ...process.env, DATABASE_URL: "" },
    });
    expect(JSON.parse(stdout)).toMatchObject({ promoted: true, to: BEST });
    expect(existsSync(join(root, ".registry", "audit.db"))).toBe(true);
    const failed = await promisify(execFile)("node", [bin, "show", "../x", "--root", root]).catch((e) => e);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/not a version name/);
  });
});

describe("registry inspect", () => {
  it("reports a real model as safe (exit 0) and a hostile pickle as unsafe (exit 3) without loading either", async () => {
    const safe = await run("inspect", join(root, `models/${BEST}.joblib`), "--json");
    expect(safe.code).toBe(0);
    expect(safe.json).toMatchObject({ verdict: "safe", schema: { catCols: ["plan", "region", "payment_method", "contract_type"] } });
    const { writeFileSync } = await import("node:fs");
    const evil = join(root, "evil.joblib");
    writeFileSync(
      evil,
      Buffer.from([0x80, 0x02, ...Buffer.from("cposix\nsystem\n", "latin1"), 0x58, 2, 0, 0, 0, 0x69, 0x64, 0x85, 0x52, 0x2e]),
    );
    const bad = await run("inspect", evil, "--json");
    expect(bad.code).toBe(3);
    expect(bad.json).toMatchObject({ verdict: "unsafe" });
    expect((await run("inspect")).code).toBe(2);
  });
});

describe("the registry command (cli/registry)", () => {
  it("runs the CLI from wherever it is linked, without the CA bundle Node would parse at start-up", async () => {
    const { mkdtempSync, rmSync, symlinkSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const bin = mkdtempSync(join(tmpdir(), "registry-bin-"));
    try {
      // The way npm installs it: a symlink in another folder (node_modules/.bin).
      symlinkSync(resolve(__dirname, "registry"), join(bin, "registry"));
      // A CA bundle that does not exist: Node warns about it at start-up when it is left set.
      const env = { ...process.env, NODE_EXTRA_CA_CERTS: join(bin, "no-such-bundle.pem") };
      const viaCommand = await promisify(execFile)(join(bin, "registry"), ["list", "--root", root, "--json"], { env });
      expect(JSON.parse(viaCommand.stdout)).toMatchObject({ best: BEST, production: { stem: PRODUCTION } });
      expect(viaCommand.stderr).toBe("");
      const direct = await promisify(execFile)("node", [resolve(__dirname, "bin.mjs"), "list", "--root", root, "--json"], { env });
      expect(direct.stderr).toMatch(/extra certs/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
