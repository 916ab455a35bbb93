import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
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
      "alias_replaceable",
      "loads_and_predicts",
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

describe("human-readable wording (JSON and exit codes unchanged)", () => {
  it("show names the estimator once, beside the model type from the name, with spaced labels", async () => {
    const { code, text } = await run("show", BEST);
    expect(code).toBe(0);
    expect(text.match(/model type/g)).toHaveLength(1);
    expect(text).toContain("  model type   candidate_logreg  (from the name)");
    expect(text).toMatch(/\n {2}estimator {4}\S/);
    expect(text).toMatch(/\n {2}git commit {3}\S/);
    expect(text).not.toMatch(/gitCommit|trainedBy|dataVersion/);
  });

  it("a dry-run rollback says 'Roll back to', and a refusal ends in one full stop", async () => {
    expect((await run("promote")).code).toBe(0);
    const dry = await run("rollback", "--previous", "--dry-run");
    expect(dry.text).toContain(`[dry run] Roll back to ${PRODUCTION} (pr_auc`);
    const low = await run("promote", "--version", "baseline_logreg_20250114T091500Z");
    expect(low.code).toBe(3);
    expect(low.text).toMatch(/threshold 0\.6000\)/);
    expect(low.text).not.toContain(".).");
  });

  it("without metrics, promote does not advise overriding what cannot save it", async () => {
    const r = await run("promote", "--version", "candidate_logreg_20251120T093000Z");
    expect(r.code).toBe(3);
    expect(r.text).toContain("metrics_exist cannot be overridden: fix it first.");
    expect(r.text).not.toContain("To go ahead anyway");
    // A refusal that overrides can lift still says how.
    const low = await run("promote", "--version", "baseline_logreg_20250114T091500Z");
    expect(low.text).toContain("To go ahead anyway, override min_score");
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
    const promoted = await run(
      "promote",
      "--version",
      stem,
      "--override",
      "min_score",
      "--override",
      "no_degradation",
      "--reason",
      "load test",
    );
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

/** Every path under a folder, recursively (folders marked with a slash): proves a command created nothing. */
function paths(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => `${join(e.parentPath, e.name).slice(dir.length)}${e.isDirectory() ? "/" : ""}`)
    .sort();
}

const COMMANDS = [
  ["list"],
  ["show"],
  ["promote"],
  ["rollback"],
  ["inspect"],
  ["audit"],
  ["audit", "list"],
  ["audit", "verify"],
  ["audit", "export"],
  ["users"],
  ["users", "add"],
  ["users", "list"],
  ["users", "roles"],
  ["db"],
  ["db", "migrate"],
];

describe("help and usage errors write nothing", () => {
  it("`<command> --help` and `-h` print that command's usage with exit 0, for every command", async () => {
    const before = paths(root);
    for (const command of COMMANDS) {
      for (const flag of ["--help", "-h"]) {
        const r = await run(...command, flag);
        expect(r.code, `${command.join(" ")} ${flag}`).toBe(0);
        expect(r.text, `${command.join(" ")} ${flag}`).toContain(`registry ${command[0]}`);
        expect(r.text).toMatch(/--root DIR/);
        const json = await run(...command, flag, "--json");
        expect(json.code).toBe(0);
        expect(json.json.usage).toContain(command[0]);
      }
    }
    for (const args of [["help"], ["--help"], ["-h"], ["help", "users"], ["help", "audit"]]) {
      const r = await run(...args);
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.text).toContain(args[1] ? `registry ${args[1]}` : "Usage: registry <command>");
    }
    expect((await run("users", "--help")).text).toMatch(/users add NAME --role ROLE/);
    expect(paths(root)).toEqual(before);
  });

  it("unknown commands, missing arguments and bad flags exit 2 with a JSON error, and create nothing", async () => {
    const before = paths(root);
    for (const args of [
      ["nonsense"],
      ["help", "nonsense"],
      ["list", "--frobnicate"],
      ["list", "extra"],
      ["show"],
      ["show", "a_20250101T000000Z", "b"],
      ["promote", "--min-score", "high"],
      ["promote", "--override", "min_score"],
      ["promote", "--override", "nosuch", "--reason", "x"],
      ["promote", "--version", "../x"],
      ["promote", "--frobnicate"],
      ["rollback"],
      ["rollback", "--to", "x_20250101T000000Z", "--previous"],
      ["rollback", "--to", "../../etc/passwd"],
      ["inspect"],
      ["audit"],
      ["audit", "nosuch"],
      ["audit", "list", "--limit", "0"],
      ["audit", "list", "--frobnicate"],
      ["audit", "export", "--format", "xml"],
      ["users"],
      ["users", "nosuch"],
      ["users", "add"],
      ["users", "add", "alice"],
      ["users", "add", "bad name!", "--role", "viewer"],
      ["users", "add", "alice", "--role", "bogus"],
      ["users", "add", "alice", "bob", "--role", "viewer"],
      ["users", "list", "--role", "viewer"],
      ["users", "roles"],
      ["users", "roles", "alice"],
      ["users", "roles", "alice", "--role", "bogus"],
      ["users", "roles", "alice", "--password-stdin", "--role", "viewer"],
      ["db"],
      ["db", "nosuch"],
      ["db", "migrate", "--frobnicate"],
    ]) {
      const r = await run(...args, "--json");
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.json, args.join(" ")).toEqual({ error: { code: "invalid_input", message: expect.any(String) }, exitCode: 2 });
      expect((r.json.error as { message: string }).message, args.join(" ")).not.toMatch(/\n\s+at /);
      expect(paths(root), args.join(" ")).toEqual(before);
    }
  });

  it("a usage error of promote or rollback does not even run the start-up repair", async () => {
    const { mkdirSync, writeFileSync } = await import("node:fs");
    // What a promotion killed while staging leaves: the next real start removes both.
    mkdirSync(join(root, ".registry"));
    writeFileSync(join(root, "models/.production_latest.0a0a.tmp"), "half a model");
    writeFileSync(
      join(root, ".registry/journal.json"),
      JSON.stringify({ state: "staging", kind: "promote", tag: null, from: PRODUCTION, to: BEST, startedAt: "", pid: 1, files: [] }),
    );
    const before = paths(root);
    for (const args of [
      ["promote", "--min-score", "high"],
      ["promote", "--override", "min_score"],
      ["promote", "--version", "../x"],
      ["rollback"],
      ["rollback", "--to", "x_20250101T000000Z", "--previous"],
    ]) {
      expect((await run(...args)).code, args.join(" ")).toBe(2);
      expect(paths(root), args.join(" ")).toEqual(before);
    }
  });

  it("the installed command run with no --root in an empty folder creates no ./artifacts for help or bad usage", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const cwd = mkdtempSync(join(tmpdir(), "registry-cwd-"));
    try {
      const bin = resolve(__dirname, "bin.mjs");
      const env = { ...process.env, DATABASE_URL: "", REGISTRY_ROOT: "" };
      const help = await promisify(execFile)("node", [bin, "users", "--help"], { cwd, env });
      expect(help.stdout).toMatch(/users add NAME --role ROLE/);
      for (const args of [["users", "roles", "nosuch"], ["users"], ["audit"], ["list", "-x"]]) {
        const failed = await promisify(execFile)("node", [bin, ...args], { cwd, env }).catch((e) => e);
        expect(failed.code, args.join(" ")).toBe(2);
        expect(failed.stderr, args.join(" ")).toMatch(/^registry: /);
        expect(failed.stderr, args.join(" ")).not.toMatch(/\n\s+at /);
      }
      expect(paths(cwd)).toEqual([]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe("registry users: bad input gets a clear message, never a stack trace", () => {
  it("an unknown account is exit 2 with code unknown_account, and an empty registry gets no database for it", async () => {
    const before = paths(root);
    const missing = await run("users", "roles", "nosuch", "--role", "viewer", "--json");
    expect(missing).toMatchObject({
      code: 2,
      json: { error: { code: "unknown_account", message: expect.stringContaining('No account named "nosuch"') }, exitCode: 2 },
    });
    expect(paths(root)).toEqual(before);
    expect((await run("users", "list", "--json")).json).toEqual({ users: [] });
    expect(paths(root)).toEqual(before);

    // With a database and an account in it: the same answers, from the database.
    expect((await run("users", "add", "alice", "--role", "viewer", "--json")).code).toBe(0);
    expect((await run("users", "roles", "nosuch", "--role", "viewer", "--json")).json).toMatchObject({
      error: { code: "unknown_account" },
      exitCode: 2,
    });
    const taken = await run("users", "add", "alice", "--role", "admin", "--json");
    expect(taken).toMatchObject({ code: 2, json: { error: { code: "invalid_input", message: expect.stringMatching(/taken/) } } });
    const changed = await run("users", "roles", "alice", "--role", "releaser", "--role", "auditor", "--json");
    expect(changed).toMatchObject({ code: 0, json: { username: "alice", roles: ["releaser", "auditor"] } });
    expect((await run("users", "list", "--json")).json).toMatchObject({ users: [{ username: "alice", roles: ["releaser", "auditor"] }] });
  });

  it("the installed command prints one line for an unknown account, not a Prisma stack", async () => {
    const bin = resolve(__dirname, "bin.mjs");
    const env = { ...process.env, DATABASE_URL: "" };
    await promisify(execFile)("node", [bin, "users", "add", "alice", "--role", "viewer", "--root", root], { env });
    const failed = await promisify(execFile)("node", [bin, "users", "roles", "nosuch", "--role", "viewer", "--root", root], { env }).catch(
      (e) => e,
    );
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/^registry: No account named "nosuch"/);
    expect(failed.stderr.trim().split("\n")).toHaveLength(1);
  });
});
