import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyPlan, recoverInterrupted } from "./apply";
import {
  AliasBlockedError,
  InvalidInputError,
  ProductionChangedError,
  RefusedError,
  SourceChangedError,
  UnknownVersionError,
} from "./errors";
import { historyOf } from "./live-history";
import { STATE_DIR } from "./lock";
import { scanRegistry } from "./scan";
import { loadCheckPolicyFromEnv } from "@/lib/load-check";
import { planFromDisk as planWith } from "./plan-from-disk";
import { BEST, fingerprint, PRODUCTION, removeRegistry, sha, tempRegistry } from "./test-support/fixture";

let root: string;
beforeEach(() => {
  root = tempRegistry();
});
afterEach(() => removeRegistry(root));

/** Plans as the CLI does on a registry with an empty trust list. */
const planFromDisk = (at: string, request: Parameters<typeof planWith>[1], history?: Parameters<typeof planWith>[2]) =>
  planWith(at, request, history, { trusted: [] }, loadCheckPolicyFromEnv());
const promote = (version?: string, extra: Partial<Parameters<typeof planWith>[1]> = {}) =>
  planFromDisk(root, { kind: "promote", version, minScore: 0.6, overrides: [], ...extra });

const noTemps = () => ["models", "metrics"].flatMap((d) => readdirSync(join(root, d)).filter((f) => f.startsWith(".production_latest.")));

describe("plan", () => {
  it("plans the best version with every check and touches nothing", async () => {
    const before = fingerprint(root);
    const { plan } = await promote();
    expect(plan.target.stem).toBe(BEST);
    expect(plan.current.stem).toBe(PRODUCTION);
    expect(plan.allowed).toBe(true);
    expect(plan.checks.map((c) => [c.name, c.passed])).toEqual([
      ["metrics_exist", true],
      ["min_score", true],
      ["no_degradation", true],
      ["artifact_readable", true],
      ["artifact_safe", true],
      ["feature_schema", true],
      ["alias_replaceable", true],
      ["loads_and_predicts", true],
    ]);
    expect(plan.files.map((f) => [f.alias, f.newSha256])).toEqual([
      ["models/production_latest.joblib", sha(join(root, "models", `${BEST}.joblib`))],
      ["metrics/production_latest.json", sha(join(root, "metrics", `${BEST}.json`))],
    ]);
    expect(fingerprint(root)).toEqual(before);
  });

  it("refuses below the threshold and on degradation unless overridden with a reason", async () => {
    const low = "baseline_logreg_20250114T091500Z";
    const { plan } = await promote(low);
    expect(plan.allowed).toBe(false);
    expect(plan.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(["min_score"]);
    const both = await promote(low, { minScore: 0.5 });
    expect(both.plan.allowed).toBe(true);
    const overridden = await promote(low, { overrides: [{ check: "min_score", reason: "hotfix for segment X" }] });
    expect(overridden.plan.allowed).toBe(true);
    expect(overridden.plan.checks.find((c) => c.name === "min_score")).toMatchObject({
      passed: false,
      overridden: true,
      overrideReason: "hotfix for segment X",
    });
  });

  it("never lets metrics_exist or artifact_readable be overridden", async () => {
    await expect(
      promote("candidate_logreg_20251120T093000Z", { overrides: [{ check: "metrics_exist", reason: "x" }] }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    const { plan } = await promote("candidate_logreg_20251120T093000Z", {
      overrides: [
        { check: "min_score", reason: "x" },
        { check: "no_degradation", reason: "x" },
      ],
    });
    expect(plan.allowed).toBe(false);
    expect(plan.checks.find((c) => c.name === "metrics_exist")?.passed).toBe(false);
  });

  it("skips threshold and degradation for a rollback to a version that was live, and keeps the rest", async () => {
    const old = "baseline_logreg_20250114T091500Z";
    const oldSha = sha(join(root, `models/${old}.joblib`));
    // The log: OLD was live when it began, and a promotion replaced it with the current production.
    const history = historyOf([
      {
        seq: 1,
        at: "2025-02-11T14:30:00.000Z",
        kind: "promote",
        recovered: false,
        actor: "alice",
        reason: "monthly",
        correlationId: "c1",
        from: { stem: old, sha256: oldSha },
        to: { stem: PRODUCTION, sha256: sha(join(root, `models/${PRODUCTION}.joblib`)) },
        score: null,
        metric: null,
      },
    ]);
    const { plan } = await planFromDisk(root, { kind: "rollback", version: old, minScore: 0.6, overrides: [] }, history);
    expect(plan.allowed).toBe(true);
    expect(plan.checks.filter((c) => c.skipped).map((c) => c.name)).toEqual(["min_score", "no_degradation"]);
    expect(plan.checks[0]).toMatchObject({ name: "was_live", passed: true, evidence: { finding: "was_live", timesLive: 1 } });
  });

  it("judges a rollback to a version never live as a promotion: every gate, refused as never_live", async () => {
    const old = "baseline_logreg_20250114T091500Z";
    const { plan } = await planFromDisk(root, { kind: "rollback", version: old, minScore: 0.6, overrides: [] }, historyOf([]));
    expect(plan).toMatchObject({ allowed: false, refusalCode: "never_live" });
    expect(plan.checks.filter((c) => c.skipped)).toEqual([]);
    expect(plan.checks.find((c) => c.name === "min_score")).toMatchObject({ passed: false });
    // Overriding the score gates does not make it a rollback: was_live cannot be overridden.
    const overrides = [
      { check: "min_score" as const, reason: "x" },
      { check: "no_degradation" as const, reason: "x" },
    ];
    const forced = await planFromDisk(root, { kind: "rollback", version: old, minScore: 0.6, overrides }, historyOf([]));
    expect(forced.plan).toMatchObject({ allowed: false, refusalCode: "never_live" });
    await expect(
      planFromDisk(root, { kind: "rollback", version: old, minScore: 0.6, overrides: [{ check: "was_live", reason: "x" }] }, historyOf([])),
    ).rejects.toBeInstanceOf(InvalidInputError);
  });

  it("refuses an unknown version and a registry with nothing to promote", async () => {
    await expect(promote("nope_20250101T000000Z")).rejects.toBeInstanceOf(UnknownVersionError);
    for (const f of readdirSync(join(root, "metrics"))) rmSync(join(root, "metrics", f));
    await expect(promote()).rejects.toThrow(/No candidates found for promotion/);
  });
});

describe("static inspection in the plan", () => {
  // A pickle that calls os.system("echo pwned"): GLOBAL, BINUNICODE, TUPLE1, REDUCE, STOP. Never loaded, only read.
  const hostile = () =>
    Buffer.from([
      0x80,
      0x02,
      ...Buffer.from("cos\nsystem\n", "latin1"),
      0x58,
      10,
      0,
      0,
      0,
      ...Buffer.from("echo pwned", "latin1"),
      0x85,
      0x52,
      0x2e,
    ]);
  const text = (s: string) => [0x58, s.length, 0, 0, 0, ...Buffer.from(s, "latin1")];
  // {"model": None, "cat_cols": [...], "num_cols": [...]} as protocol-2 opcodes: no globals at all.
  const savedDict = (cat: string[], num: string[]) =>
    Buffer.from([
      0x80,
      0x02,
      0x7d,
      0x28,
      ...text("model"),
      0x4e,
      ...text("cat_cols"),
      0x5d,
      0x28,
      ...cat.flatMap(text),
      0x65,
      ...text("num_cols"),
      0x5d,
      0x28,
      ...num.flatMap(text),
      0x65,
      0x75,
      0x2e,
    ]);

  it("refuses a hostile model file outright, even with every override", async () => {
    const stem = "candidate_logreg_20260101T000000Z";
    writeFileSync(join(root, "models", `${stem}.joblib`), hostile());
    writeFileSync(join(root, "metrics", `${stem}.json`), JSON.stringify({ metrics: { pr_auc: 0.99 } }));
    const { plan } = await promote(stem, {
      overrides: [
        { check: "min_score", reason: "x" },
        { check: "no_degradation", reason: "x" },
        { check: "feature_schema", reason: "x" },
      ],
    });
    const safe = plan.checks.find((c) => c.name === "artifact_safe")!;
    expect(safe).toMatchObject({ passed: false, overridable: false });
    expect(safe.detail).toMatch(/os\.system|posix\.system/);
    expect(plan.allowed).toBe(false);
    const before = fingerprint(root);
    await expect(applyPlan(root, plan)).rejects.toBeInstanceOf(RefusedError);
    expect(fingerprint(root)).toEqual(before);
  });

  it("compares feature schemas with production: a match passes, a difference fails but can be overridden", async () => {
    const same = (await promote()).plan.checks.find((c) => c.name === "feature_schema")!;
    expect(same).toMatchObject({ passed: true, overridable: true });
    expect(same.evidence).toMatchObject({ catCols: ["plan", "region", "payment_method", "contract_type"] });

    const stem = "candidate_logreg_20260102T000000Z";
    writeFileSync(join(root, "models", `${stem}.joblib`), savedDict(["plan", "country"], ["tenure_days"]));
    writeFileSync(join(root, "metrics", `${stem}.json`), JSON.stringify({ metrics: { pr_auc: 0.7 } }));
    const { plan } = await promote(stem);
    const differs = plan.checks.find((c) => c.name === "feature_schema")!;
    expect(differs.passed).toBe(false);
    expect(differs.detail).toMatch(/cat_cols/);
    expect(plan.allowed).toBe(false);
    const overridden = await promote(stem, { overrides: [{ check: "feature_schema", reason: "new region feature, API updated" }] });
    expect(overridden.plan.allowed).toBe(true);
  });
});

describe("apply, when the source's sha256 is already known by its identity (the kernel copies it)", () => {
  // Hashes are remembered only for files that have been still for a second (see settledAt).
  const settle = () => new Promise((r) => setTimeout(r, 1100));

  it("writes a byte-identical, regular, 0644 alias pair", async () => {
    await settle();
    const { plan } = await promote();
    await applyPlan(root, plan);
    const alias = join(root, "models/production_latest.joblib");
    expect(readFileSync(alias)).toEqual(readFileSync(join(root, `models/${BEST}.joblib`)));
    expect(readFileSync(join(root, "metrics/production_latest.json"))).toEqual(readFileSync(join(root, `metrics/${BEST}.json`)));
    expect(lstatSync(alias).isFile() && (lstatSync(alias).mode & 0o777) === 0o644).toBe(true);
    expect(lstatSync(alias).ino).not.toBe(lstatSync(join(root, `models/${BEST}.joblib`)).ino);
    expect(noTemps()).toEqual([]);
  });

  it("still refuses a source rewritten in place after planning, even at the same size", async () => {
    await settle();
    const { plan } = await promote();
    const model = join(root, "models", `${BEST}.joblib`);
    const bytes = readFileSync(model);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 2) ^ 0xff, bytes.length - 2);
    writeFileSync(model, bytes);
    const before = fingerprint(root);
    await expect(applyPlan(root, plan)).rejects.toBeInstanceOf(SourceChangedError);
    expect(fingerprint(root)).toEqual(before);
    expect(noTemps()).toEqual([]);
  });

  it("leaves production untouched when the disk fills during the copy", async () => {
    await settle();
    const { plan } = await promote();
    const before = fingerprint(root);
    process.env.REGISTRY_FAULT = "enospc_during_copy";
    try {
      await expect(applyPlan(root, plan)).rejects.toThrow(/disk is full/);
    } finally {
      delete process.env.REGISTRY_FAULT;
    }
    expect(fingerprint(root)).toEqual(before);
    expect(noTemps()).toEqual([]);
  });
});

describe("apply", () => {
  it("promotes the best version as a byte-identical alias pair, leaving no temp files", async () => {
    const { plan } = await promote();
    const result = await applyPlan(root, plan);
    expect(result).toMatchObject({ noop: false, from: PRODUCTION, to: BEST });
    expect(sha(join(root, "models/production_latest.joblib"))).toBe(sha(join(root, `models/${BEST}.joblib`)));
    expect(sha(join(root, "metrics/production_latest.json"))).toBe(sha(join(root, `metrics/${BEST}.json`)));
    expect(noTemps()).toEqual([]);
    expect((await scanRegistry(root)).production).toMatchObject({ state: "ok", stem: BEST });
  });

  it("writes nothing when the plan is refused", async () => {
    const before = fingerprint(root);
    const { plan } = await promote("baseline_logreg_20250114T091500Z");
    await expect(applyPlan(root, plan)).rejects.toBeInstanceOf(RefusedError);
    expect(fingerprint(root)).toEqual(before);
  });

  it("replaces a symlinked alias instead of writing through it", async () => {
    const old = join(root, "models", `${PRODUCTION}.joblib`);
    const oldBytes = readFileSync(old);
    rmSync(join(root, "models/production_latest.joblib"));
    symlinkSync(old, join(root, "models/production_latest.joblib"));
    const { plan } = await promote();
    await applyPlan(root, plan);
    expect(readFileSync(old)).toEqual(oldBytes);
    expect(lstatSync(join(root, "models/production_latest.joblib")).isSymbolicLink()).toBe(false);
    expect(sha(join(root, "models/production_latest.joblib"))).toBe(sha(join(root, `models/${BEST}.joblib`)));
  });

  it("refuses a stale plan when production changed meanwhile, writing nothing", async () => {
    const { plan: first } = await promote();
    const { plan: second } = await promote("candidate_logreg_20250709T120000Z");
    await applyPlan(root, first);
    const after = fingerprint(root);
    await expect(applyPlan(root, second)).rejects.toBeInstanceOf(ProductionChangedError);
    expect(fingerprint(root)).toEqual(after);
  });

  it("serialises two concurrent applies: one wins, the other is told production changed", async () => {
    const [a, b] = await Promise.all([promote(), promote("candidate_logreg_20250709T120000Z")]);
    const results = await Promise.allSettled([applyPlan(root, a.plan), applyPlan(root, b.plan)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(ProductionChangedError);
    expect((await scanRegistry(root)).production.state).toBe("ok");
    expect(noTemps()).toEqual([]);
  });

  it("refuses a source that changed after planning and cleans its temp files", async () => {
    const { plan } = await promote();
    writeFileSync(join(root, "models", `${BEST}.joblib`), "tampered");
    const before = fingerprint(root);
    await expect(applyPlan(root, plan)).rejects.toBeInstanceOf(SourceChangedError);
    expect(fingerprint(root)).toEqual(before);
    expect(noTemps()).toEqual([]);
  });

  it("is a no-op when the target already is production", async () => {
    const { plan } = await promote(PRODUCTION, { minScore: 0 });
    expect(plan.noop).toBe(true);
    const before = fingerprint(root);
    expect(await applyPlan(root, plan)).toMatchObject({ noop: true });
    expect(fingerprint(root)).toEqual(before);
  });

  it("rewrites a mismatched pair when the same version is promoted again", async () => {
    writeFileSync(join(root, "metrics/production_latest.json"), "{}");
    const { plan } = await promote(PRODUCTION, { minScore: 0 });
    expect(plan.noop).toBe(false);
    await applyPlan(root, plan);
    expect((await scanRegistry(root)).production).toMatchObject({ state: "ok", stem: PRODUCTION });
  });
});

describe("recovery", () => {
  it("finishes a change interrupted between the two renames, so the pair is complete and new", async () => {
    // Reproduce the state a crash leaves: journal written, model renamed, metrics temp still staged.
    const temp = ".production_latest.deadbeef.tmp";
    writeFileSync(join(root, "metrics", temp), readFileSync(join(root, `metrics/${BEST}.json`)));
    writeFileSync(join(root, "models/production_latest.joblib"), readFileSync(join(root, `models/${BEST}.joblib`)));
    mkdirSync(join(root, STATE_DIR), { recursive: true });
    writeFileSync(
      join(root, STATE_DIR, "journal.json"),
      JSON.stringify({
        state: "staged",
        kind: "promote",
        from: PRODUCTION,
        to: BEST,
        startedAt: new Date().toISOString(),
        pid: 1,
        files: [
          {
            temp: "models/.production_latest.gone.tmp",
            alias: "models/production_latest.joblib",
            sha256: sha(join(root, `models/${BEST}.joblib`)),
          },
          { temp: `metrics/${temp}`, alias: "metrics/production_latest.json", sha256: sha(join(root, `metrics/${BEST}.json`)) },
        ],
      }),
    );
    expect((await scanRegistry(root)).production.state).toBe("mismatched");
    const recovery = await recoverInterrupted(root);
    expect(recovery).toMatchObject({ action: "rolled_forward", journal: { to: BEST } });
    expect((await scanRegistry(root)).production).toMatchObject({ state: "ok", stem: BEST });
    expect(existsSync(join(root, STATE_DIR, "journal.json"))).toBe(false);
    expect(noTemps()).toEqual([]);
  });

  it("abandons a change whose temp files were still being written, leaving production untouched", async () => {
    const temp = "models/.production_latest.0123.tmp";
    writeFileSync(join(root, temp), "half a model");
    mkdirSync(join(root, STATE_DIR), { recursive: true });
    writeFileSync(
      join(root, STATE_DIR, "journal.json"),
      JSON.stringify({
        state: "staging",
        kind: "promote",
        from: PRODUCTION,
        to: BEST,
        startedAt: "",
        pid: 1,
        tag: null,
        files: [{ temp, alias: "models/production_latest.joblib", sha256: "x" }],
      }),
    );
    const before = fingerprint(root);
    expect(await recoverInterrupted(root)).toMatchObject({ action: "cleaned", removedTemps: [temp] });
    expect(noTemps()).toEqual([]);
    expect(fingerprint(root)).toEqual(Object.fromEntries(Object.entries(before).filter(([k]) => k !== temp)));
    expect(await recoverInterrupted(root)).toBeNull();
  });

  it("drops stray temp files that no journal names when the next change runs", async () => {
    writeFileSync(join(root, "metrics", ".production_latest.stray.tmp"), "{}");
    const { plan } = await promote();
    await applyPlan(root, plan);
    expect(noTemps()).toEqual([]);
  });
});

/** Every entry under models/ and metrics/ with its kind (and sha256 for files): proves nothing was written. */
function tree(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const sub of ["models", "metrics"]) {
    for (const f of readdirSync(join(root, sub)).sort()) {
      const st = lstatSync(join(root, sub, f));
      out[`${sub}/${f}`] = st.isFile() ? sha(join(root, sub, f)) : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "link" : "other";
    }
  }
  return out;
}

const journalExists = () => existsSync(join(root, STATE_DIR, "journal.json"));
const MODEL_ALIAS = "models/production_latest.joblib";
const METRICS_ALIAS = "metrics/production_latest.json";

/** Puts something a rename cannot (or must not) replace where an alias file was. */
function obstruct(alias: string, kind: "dir" | "fifo"): void {
  rmSync(join(root, alias));
  if (kind === "dir") {
    mkdirSync(join(root, alias));
    writeFileSync(join(root, alias, "notes.txt"), "someone's files");
  } else {
    execFileSync("mkfifo", [join(root, alias)]);
  }
}

describe("an alias path that a rename cannot replace (a folder, a pipe)", () => {
  for (const [alias, kind] of [
    [MODEL_ALIAS, "dir"],
    [METRICS_ALIAS, "dir"],
    [MODEL_ALIAS, "fifo"],
  ] as const) {
    it(`reports ${alias} as a ${kind} and refuses the promotion before writing anything`, async () => {
      obstruct(alias, kind);
      const s = await scanRegistry(root);
      expect(s.production.state).toBe("blocked");
      expect(s.production.explanation).toContain(alias);
      expect(s.production.action).toMatch(/by hand/);
      expect(s.problems).toContainEqual(expect.objectContaining({ file: alias, reason: "not_regular_file" }));

      const { plan } = await promote();
      const check = plan.checks.find((c) => c.name === "alias_replaceable");
      expect(check).toMatchObject({ passed: false, overridable: false });
      expect(check?.detail).toContain(alias);
      expect(plan.allowed).toBe(false);
      await expect(promote(undefined, { overrides: [{ check: "alias_replaceable", reason: "x" }] })).rejects.toBeInstanceOf(
        InvalidInputError,
      );

      const before = tree();
      await expect(applyPlan(root, plan)).rejects.toBeInstanceOf(RefusedError);
      expect(tree()).toEqual(before);
      expect(journalExists()).toBe(false);
      expect(noTemps()).toEqual([]);
    });
  }

  it("refuses, writing nothing, when a folder appears where a missing alias was after planning", async () => {
    rmSync(join(root, MODEL_ALIAS));
    rmSync(join(root, METRICS_ALIAS));
    const { plan } = await promote();
    expect(plan.allowed).toBe(true);
    mkdirSync(join(root, MODEL_ALIAS));
    const before = tree();
    const error = await applyPlan(root, plan).catch((e) => e);
    expect(journalExists()).toBe(false);
    expect(tree()).toEqual(before);
    expect(noTemps()).toEqual([]);
    expect(error).toBeInstanceOf(AliasBlockedError);
    expect(error).toMatchObject({ code: "alias_blocked", exitCode: 3 });
  });

  it("undoes cleanly when a folder appears between staging and the renames, leaving no journal", async () => {
    const { plan } = await promote();
    const metricsBefore = sha(join(root, METRICS_ALIAS));
    const error = await applyPlan(root, plan, { beforeCommit: async () => obstruct(MODEL_ALIAS, "dir") }).catch((e) => e);
    expect(journalExists()).toBe(false);
    expect(noTemps()).toEqual([]);
    expect(lstatSync(join(root, MODEL_ALIAS)).isDirectory()).toBe(true);
    expect(sha(join(root, METRICS_ALIAS))).toBe(metricsBefore);
    expect(await recoverInterrupted(root)).toBeNull();
    expect(error).toBeInstanceOf(AliasBlockedError);
    expect(error.message).toMatch(/production was left as it was/i);
  });

  it("reports a half-finished pair when the second alias turns into a folder after the first rename", async () => {
    const { plan } = await promote();
    // The model alias is renamed first; the metrics alias is obstructed before the renames start.
    const error = await applyPlan(root, plan, { beforeCommit: async () => obstruct(METRICS_ALIAS, "dir") }).catch((e) => e);
    expect(journalExists()).toBe(false);
    expect(noTemps()).toEqual([]);
    expect(sha(join(root, MODEL_ALIAS))).toBe(sha(join(root, `models/${BEST}.joblib`)));
    expect((await scanRegistry(root)).production.state).toBe("blocked");
    expect(error).toBeInstanceOf(AliasBlockedError);
    expect(error.message).toContain(METRICS_ALIAS);
    expect(error.message).toMatch(/promote .* again/i);
  });

  it("reports a link that leads nowhere usable, and a promotion replaces the link itself", async () => {
    const elsewhere = join(root, "elsewhere");
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, "keep.txt"), "kept");
    rmSync(join(root, MODEL_ALIAS));
    symlinkSync(elsewhere, join(root, MODEL_ALIAS));
    rmSync(join(root, METRICS_ALIAS));
    symlinkSync(join(root, "metrics", "gone.json"), join(root, METRICS_ALIAS));
    const s = await scanRegistry(root);
    expect(s.production.state).toBe("missing");
    expect(s.problems).toContainEqual(expect.objectContaining({ file: MODEL_ALIAS, reason: "symlink" }));
    expect(s.problems).toContainEqual(expect.objectContaining({ file: METRICS_ALIAS, reason: "symlink" }));
    const { plan } = await promote();
    expect(plan.checks.find((c) => c.name === "alias_replaceable")?.passed).toBe(true);
    await applyPlan(root, plan);
    expect((await scanRegistry(root)).production).toMatchObject({ state: "ok", stem: BEST });
    expect(readFileSync(join(elsewhere, "keep.txt"), "utf8")).toBe("kept");
  });
});

describe("recovery of a journal whose renames cannot complete", () => {
  const staged = (files: { temp: string; alias: string; sha256: string; previousSha256?: string | null }[]) => {
    mkdirSync(join(root, STATE_DIR), { recursive: true });
    writeFileSync(
      join(root, STATE_DIR, "journal.json"),
      JSON.stringify({ state: "staged", kind: "promote", tag: null, from: PRODUCTION, to: BEST, startedAt: "", pid: 1, files }),
    );
  };
  /** Stages BEST's two files as a promotion would have, and journals them. */
  const stageBest = () => {
    const model = "models/.production_latest.aa11.tmp";
    const metrics = "metrics/.production_latest.bb22.tmp";
    writeFileSync(join(root, model), readFileSync(join(root, `models/${BEST}.joblib`)));
    writeFileSync(join(root, metrics), readFileSync(join(root, `metrics/${BEST}.json`)));
    staged([
      { temp: model, alias: MODEL_ALIAS, sha256: sha(join(root, `models/${BEST}.joblib`)), previousSha256: sha(join(root, MODEL_ALIAS)) },
      {
        temp: metrics,
        alias: METRICS_ALIAS,
        sha256: sha(join(root, `metrics/${BEST}.json`)),
        previousSha256: sha(join(root, METRICS_ALIAS)),
      },
    ]);
  };

  it("discards it, exactly once, when a folder stands where the first alias goes; then promotions work again", async () => {
    const metricsBefore = sha(join(root, METRICS_ALIAS));
    stageBest();
    obstruct(MODEL_ALIAS, "dir");
    const recovery = await recoverInterrupted(root);
    expect(recovery).toMatchObject({ action: "cleaned", journal: { to: BEST } });
    expect(recovery?.reason).toContain(MODEL_ALIAS);
    expect(journalExists()).toBe(false);
    expect(noTemps()).toEqual([]);
    expect(sha(join(root, METRICS_ALIAS))).toBe(metricsBefore);
    expect(await recoverInterrupted(root)).toBeNull();
    // Scans (every page) work and say what is wrong; a plan refuses until the folder is moved away.
    expect((await scanRegistry(root)).production.state).toBe("blocked");
    expect((await promote()).plan.allowed).toBe(false);
    rmSync(join(root, MODEL_ALIAS), { recursive: true });
    await applyPlan(root, (await promote()).plan);
    expect((await scanRegistry(root)).production).toMatchObject({ state: "ok", stem: BEST });
  });

  it("finishes what it can and says the pair is incomplete when the first alias was already renamed", async () => {
    stageBest();
    // The crash came after the model rename: its temp is gone and the alias holds the new bytes.
    const journal = JSON.parse(readFileSync(join(root, STATE_DIR, "journal.json"), "utf8"));
    const { renameSync } = await import("node:fs");
    renameSync(join(root, journal.files[0].temp), join(root, MODEL_ALIAS));
    obstruct(METRICS_ALIAS, "dir");
    const recovery = await recoverInterrupted(root);
    expect(recovery).toMatchObject({ action: "incomplete" });
    expect(recovery?.reason).toContain(METRICS_ALIAS);
    expect(journalExists()).toBe(false);
    expect(noTemps()).toEqual([]);
    expect(sha(join(root, MODEL_ALIAS))).toBe(sha(join(root, `models/${BEST}.joblib`)));
    expect(await recoverInterrupted(root)).toBeNull();
  });

  it("does not claim to have finished a change whose staged files are gone", async () => {
    const before = tree();
    staged([
      { temp: "models/.production_latest.gone1.tmp", alias: MODEL_ALIAS, sha256: sha(join(root, `models/${BEST}.joblib`)) },
      { temp: "metrics/.production_latest.gone2.tmp", alias: METRICS_ALIAS, sha256: sha(join(root, `metrics/${BEST}.json`)) },
    ]);
    const recovery = await recoverInterrupted(root);
    expect(recovery).toMatchObject({ action: "cleaned" });
    expect(recovery?.reason).toMatch(/gone/);
    expect(tree()).toEqual(before);
    expect(journalExists()).toBe(false);
  });

  it("sets aside a journal it cannot read or trust instead of failing every start", async () => {
    for (const text of [
      "{not json",
      JSON.stringify({ state: "staged", kind: "promote", files: [{ temp: "../../outside", alias: "models/x.joblib", sha256: "x" }] }),
    ]) {
      mkdirSync(join(root, STATE_DIR), { recursive: true });
      writeFileSync(join(root, STATE_DIR, "journal.json"), text);
      writeFileSync(join(root, "models", ".production_latest.cc33.tmp"), "half");
      const before = tree();
      const recovery = await recoverInterrupted(root);
      expect(recovery).toMatchObject({ action: "set_aside", journal: null });
      expect(journalExists()).toBe(false);
      expect(readdirSync(join(root, STATE_DIR)).some((f) => f.startsWith("journal.unreadable-"))).toBe(true);
      expect(tree()).toEqual(Object.fromEntries(Object.entries(before).filter(([k]) => !k.includes(".cc33."))));
      expect(await recoverInterrupted(root)).toBeNull();
    }
  });
});
