import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PRODUCTION, removeRegistry, sha, tempRegistry } from "@/lib/registry/test-support/fixture";
import { loaderPath, peekLoadCheck, probePython, runLoadCheck, startLoadCheck } from ".";
import { probePythonSoon, type PythonEnv, runSandboxed } from "./sandbox";

// Debian's python3-sklearn, python3-joblib and python3-pandas (scripts/test.sh installs them with bubblewrap).
const PYTHON = "/usr/bin/python3";
const GOOD = "candidate_logreg_20250305T101000Z";
let dir: string;
let root: string;
let env: PythonEnv;

/** Writes a pickle made by Python `code` (which must bind `obj`) to `name` in the test folder. */
function pickle(name: string, code: string): string {
  const file = join(dir, name);
  execFileSync(PYTHON, ["-c", `import pickle, sys\n${code}\nopen(sys.argv[1], "wb").write(pickle.dumps(obj, protocol=2))`, file]);
  return file;
}

/** A one-feature logistic regression saved as version `stem` in the test registry (`c`: its C, for other bytes). */
function oneFeatureModel(stem: string, c = 1) {
  const file = join(root, "models", `${stem}.joblib`);
  execFileSync(PYTHON, [
    "-c",
    "import joblib, sys\nfrom sklearn.linear_model import LogisticRegression\njoblib.dump(LogisticRegression(C=float(sys.argv[2])).fit([[0.0], [1.0]], [0, 1]), sys.argv[1])",
    file,
    String(c),
  ]);
  return { file: `models/${stem}.joblib`, sha256: sha(file), stem };
}

describe("loads_and_predicts: the model loaded and asked to predict, in a sandbox", () => {
  beforeAll(() => {
    process.env.REGISTRY_LOAD_PYTHON = PYTHON;
    process.env.REGISTRY_LOAD_LOADER = resolve(__dirname, "loader.py");
    dir = mkdtempSync(join(tmpdir(), "load-check-"));
    root = tempRegistry();
    const probed = probePython();
    if (typeof probed === "string") throw new Error(`the test needs Debian's python3-sklearn: ${probed}`);
    env = probed;
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    removeRegistry(root);
  });

  it("passes a real model, with what it saw as evidence, and remembers the answer by content and environment", async () => {
    const model = { file: `models/${GOOD}.joblib`, sha256: sha(join(root, `models/${GOOD}.joblib`)), stem: GOOD };
    const facts = await runLoadCheck(root, model, "safe");
    expect(facts.status).toBe("passed");
    expect(facts.detail).toMatch(/predict_proba gave 5×2 values in \[0\.\d{4}, 0\.\d{4}\]/);
    expect(facts.evidence).toMatchObject({ method: "predict_proba", outputShape: [5, 2], versions: { sklearn: "1.2.1" } });
    expect(existsSync(join(root, ".registry", "load-checks"))).toBe(true);
    // The same bytes in the same environment: the remembered answer (the file is gone, so a new run would fail).
    rmSync(join(root, model.file));
    expect((await runLoadCheck(root, model, "safe")).status).toBe("passed");
  });

  it("runs off the caller's path: a look never starts the sandbox, a start does, and callers asking meanwhile join that one run", async () => {
    const model = { file: `models/${PRODUCTION}.joblib`, sha256: sha(join(root, `models/${PRODUCTION}.joblib`)), stem: PRODUCTION };
    const on = { mode: "on" as const, source: "default" as const };
    // What a page does while it renders: look, twice. Nothing starts.
    expect(peekLoadCheck(root, model, "safe", on)).toEqual({ state: "unchecked" });
    expect(peekLoadCheck(root, model, "safe", on)).toEqual({ state: "unchecked" });
    // A releaser's button: started in the background, reported running.
    expect(startLoadCheck(root, model, "safe", on)).toMatchObject({ state: "running", limitMs: 60_000 });
    expect(peekLoadCheck(root, model, null, on)).toMatchObject({ state: "running" });
    // The preview does not wait: it shows the run with its progress against the limit.
    const preview = await runLoadCheck(root, model, "safe", { ...on, wait: false });
    expect(preview).toMatchObject({ status: "running", evidence: { limitMs: 60_000 } });
    expect(preview.detail).toMatch(/^Loading the model in the sandbox… \d+\.\d s \/ limit 60 s\.$/);
    // A promotion and another preview asking now both get that one run's answer.
    const [a, b] = await Promise.all([runLoadCheck(root, model, "safe", on), runLoadCheck(root, model, "safe", on)]);
    expect(a.status).toBe("passed");
    expect(b).toBe(a);
    expect(peekLoadCheck(root, model, null, on)).toMatchObject({ state: "done", facts: { status: "passed" } });
    // And a look at a file the inspector did not pass says so at once, without Python.
    expect(peekLoadCheck(root, model, "unsafe", on)).toMatchObject({ state: "done", facts: { status: "not_run" } });
  });

  it("loads a model file only its owner may read (0600), through a private copy of the very bytes that were judged", async () => {
    const stem = "private_logreg_20260101T000000Z";
    const file = join(root, "models", `${stem}.joblib`);
    execFileSync(PYTHON, [
      "-c",
      "import joblib, sys\nfrom sklearn.linear_model import LogisticRegression\njoblib.dump(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), sys.argv[1])",
      file,
    ]);
    chmodSync(file, 0o600);
    const model = { file: `models/${stem}.joblib`, sha256: sha(file), stem };
    const facts = await runLoadCheck(root, model, "safe", { mode: "on", source: "default" });
    expect(facts).toMatchObject({ status: "passed", evidence: { outputShape: [5, 2] } });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("refuses to load a file whose bytes are not the ones the static inspector judged safe", async () => {
    const stem = "swapped_logreg_20260102T000000Z";
    const file = join(root, "models", `${stem}.joblib`);
    // Judged safe as bytes dddd…; by the time it is loaded the file holds something else.
    writeFileSync(file, Buffer.from("\x80\x02cacme_features\nWinsorizer\n)\x81.", "latin1"));
    const facts = await runLoadCheck(root, { file: `models/${stem}.joblib`, sha256: "d".repeat(64), stem }, "safe");
    expect(facts.status).toBe("not_run");
    expect(facts.detail).toMatch(/^Not run: the model file changed after the static inspector judged it \(sha256 dddddddddddd…, now [0-9a-f]{12}…\)/);
  });

  it("does not wait on a named pipe swapped in for the model file after it was judged", async () => {
    const stem = "piped_logreg_20260103T000000Z";
    execFileSync("mkfifo", [join(root, "models", `${stem}.joblib`)]);
    // Nothing ever writes to the pipe: a blocking open would never return.
    const facts = await runLoadCheck(root, { file: `models/${stem}.joblib`, sha256: "e".repeat(64), stem }, "safe");
    expect(facts.status).toBe("not_run");
    expect(facts.detail).toMatch(/could not be copied for the sandbox \(ENOTREG\)/);
  });

  it("predicts on the team's sample rows (samples/{model_type}.csv), and new rows mean a new run", async () => {
    const model = oneFeatureModel("sampled_logreg_20260104T000000Z");
    const sample = join(root, "samples", "sampled_logreg.csv");
    mkdirSync(join(root, "samples"), { recursive: true });
    writeFileSync(sample, "x\n0.5\n2.0\n-1.0\n");
    const on = { mode: "on" as const, source: "default" as const };
    const first = await runLoadCheck(root, model, "safe", on);
    expect(first).toMatchObject({ status: "passed", evidence: { outputShape: [3, 2], sample: "samples/sampled_logreg.csv (15 bytes)" } });
    expect(peekLoadCheck(root, model, "safe", on)).toMatchObject({ state: "done", facts: { status: "passed" } });
    writeFileSync(sample, "x\n0.5\n2.0\n-1.0\n4.0\n");
    expect(peekLoadCheck(root, model, "safe", on)).toEqual({ state: "unchecked" });
    expect(await runLoadCheck(root, model, "safe", on)).toMatchObject({ status: "passed", evidence: { outputShape: [4, 2] } });
  });

  it("reads the first 1 MiB of a large sample file, cut at a row's end, so a whole test set dropped there still works", async () => {
    const model = oneFeatureModel("bigsample_logreg_20260105T000000Z");
    mkdirSync(join(root, "samples"), { recursive: true });
    writeFileSync(join(root, "samples", "bigsample_logreg.csv"), `x\n${"0.25\n".repeat(400_000)}`);
    const facts = await runLoadCheck(root, model, "safe", { mode: "on", source: "default" });
    expect(facts).toMatchObject({ status: "passed", evidence: { outputShape: [20, 2] } });
    expect(String(facts.evidence.sample)).toMatch(/^samples\/bigsample_logreg\.csv \(first 1048572 of 2000002 bytes\)$/);
  });

  it("neither waits on a named pipe nor follows a link out of the registry for a sample file: it says what is wrong", async () => {
    const on = { mode: "on" as const, source: "default" as const };
    mkdirSync(join(root, "samples"), { recursive: true });
    const piped = oneFeatureModel("pipesample_logreg_20260106T000000Z");
    execFileSync("mkfifo", [join(root, "samples", "pipesample_logreg.csv")]);
    // Nothing ever writes to the pipe: a page that read it to hash it would never render.
    const look = peekLoadCheck(root, piped, "safe", on);
    expect(look).toMatchObject({ state: "done", facts: { status: "not_run" } });
    expect(look.state === "done" && look.facts.detail).toMatch(/samples\/pipesample_logreg\.csv is not a regular file/);

    const linked = oneFeatureModel("linksample_logreg_20260107T000000Z");
    const outside = join(dir, "secret.csv");
    writeFileSync(outside, "x\n1\n");
    symlinkSync(outside, join(root, "samples", "linksample_logreg.csv"));
    const facts = await runLoadCheck(root, linked, "safe", on);
    expect(facts.status).toBe("not_run");
    expect(facts.detail).toMatch(/samples\/linksample_logreg\.csv is a link/);
  });

  it("runs at most REGISTRY_LOAD_CONCURRENCY sandboxes at once: a later run waits its turn and says so", async () => {
    const on = { mode: "on" as const, source: "default" as const };
    const first = oneFeatureModel("queued_logreg_20260108T000000Z", 0.5);
    const second = oneFeatureModel("queued_logreg_20260109T000000Z", 0.25);
    process.env.REGISTRY_LOAD_CONCURRENCY = "1";
    try {
      expect(startLoadCheck(root, first, "safe", on)).toMatchObject({ state: "running" });
      // The second cannot start before the first's sandbox has exited, which takes the event loop's turns.
      expect(startLoadCheck(root, second, "safe", on)).toMatchObject({ state: "running", waiting: { slots: 1 } });
      const preview = await runLoadCheck(root, second, "safe", { ...on, wait: false });
      expect(preview.detail).toMatch(/^Waiting for a free sandbox \(1 run at a time\)… \d+\.\d s\.$/);
      const [a, b] = await Promise.all([runLoadCheck(root, first, "safe", on), runLoadCheck(root, second, "safe", on)]);
      expect([a.status, b.status]).toEqual(["passed", "passed"]);
    } finally {
      delete process.env.REGISTRY_LOAD_CONCURRENCY;
    }
  });

  it("never loads a file the static inspector did not judge safe", async () => {
    const facts = await runLoadCheck(root, { file: `models/${GOOD}.joblib`, sha256: "b".repeat(64), stem: GOOD }, "unsafe");
    expect(facts).toMatchObject({ status: "not_run" });
    expect(facts.detail).toContain("judged the file unsafe");
  });

  it("says clearly when the serving Python has no scikit-learn, and does not block unless required", async () => {
    const saved = process.env.REGISTRY_LOAD_PYTHON;
    process.env.REGISTRY_LOAD_PYTHON = "/definitely/not/python3";
    try {
      const facts = await runLoadCheck(root, { file: `models/${GOOD}.joblib`, sha256: "c".repeat(64), stem: GOOD }, "safe");
      expect(facts.status).toBe("not_run");
      expect(facts.detail).toMatch(/^Not run: \/definitely\/not\/python3 was not found; set REGISTRY_LOAD_PYTHON/);
      expect(facts.notRunBlocks).toBe(false);
    } finally {
      process.env.REGISTRY_LOAD_PYTHON = saved;
    }
  });

  it("fails a model pickled against a class the environment lacks, with the import error as evidence", async () => {
    const file = join(dir, "missing-class.joblib");
    writeFileSync(file, Buffer.from("\x80\x02cacme_features\nWinsorizer\n)\x81.", "latin1"));
    const run = await runSandboxed(env, loaderPath(), file, null);
    expect(run.kind).toBe("answered");
    expect(run.kind === "answered" && run.output).toMatchObject({
      ok: false,
      error: expect.stringContaining("No module named 'acme_features'"),
    });
  });

  it("fails a pipeline that raises on predict", async () => {
    const file = pickle(
      "unfitted.joblib",
      "from sklearn.linear_model import LogisticRegression\nobj = {'model': LogisticRegression(), 'cat_cols': [], 'num_cols': ['a', 'b']}",
    );
    const run = await runSandboxed(env, loaderPath(), file, null);
    expect(run.kind === "answered" && run.output).toMatchObject({ ok: false, error: expect.stringContaining("NotFittedError") });
  });

  it("gives a model no network: a connection it opens at load time reaches nothing on the host", async () => {
    let contacted = 0;
    const server: Server = createServer((s) => {
      contacted++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const file = pickle(
        "phones-home.joblib",
        `import socket\nclass R:\n    def __reduce__(self):\n        return (socket.create_connection, (("127.0.0.1", ${port}), 3))\nobj = R()`,
      );
      const run = await runSandboxed(env, loaderPath(), file, null);
      expect(run.kind === "answered" && run.output).toMatchObject({
        ok: false,
        error: expect.stringMatching(/ConnectionRefused|unreachable|OSError/),
      });
      const outside = pickle(
        "phones-out.joblib",
        `import socket\nclass R:\n    def __reduce__(self):\n        return (socket.create_connection, (("1.1.1.1", 53), 3))\nobj = R()`,
      );
      const out = await runSandboxed(env, loaderPath(), outside, null);
      expect(out.kind === "answered" && out.output).toMatchObject({ ok: false, error: expect.stringMatching(/unreachable|OSError/) });
      expect(contacted).toBe(0);
    } finally {
      server.close();
    }
  });

  it("lets a model write nowhere but its private /tmp", async () => {
    const target = `/usr/lib/registry-pwned-${process.pid}`;
    const file = pickle(
      "writes.joblib",
      `class R:\n    def __reduce__(self):\n        return (open, (${JSON.stringify(target)}, "w"))\nobj = R()`,
    );
    const run = await runSandboxed(env, loaderPath(), file, null);
    expect(run.kind === "answered" && run.output).toMatchObject({
      ok: false,
      error: expect.stringMatching(/Read-only file system|Permission denied/),
    });
    expect(existsSync(target)).toBe(false);
    // Its own model file is read-only too.
    const self = pickle(
      "overwrites.joblib",
      `class R:\n    def __reduce__(self):\n        return (open, ("/sandbox/model.joblib", "w"))\nobj = R()`,
    );
    const again = await runSandboxed(env, loaderPath(), self, null);
    expect(again.kind === "answered" && again.output).toMatchObject({ ok: false });
  });

  it("kills a model that loops at load time at the CPU limit, and reports it", async () => {
    const file = pickle(
      "loops.joblib",
      "import collections, itertools\nclass R:\n    def __reduce__(self):\n        return (collections.deque, (itertools.repeat(1), 0))\nobj = R()",
    );
    const run = await runSandboxed(env, loaderPath(), file, null, { wallMs: 60_000, cpuSeconds: 2, memoryBytes: 1024 ** 3 });
    expect(run.kind).toBe("killed");
    expect(run.kind === "killed" && run.reason).toMatch(/CPU-time or memory limit/);
  });

  it("stops a model that allocates without bound at the memory limit", async () => {
    const file = pickle(
      "allocates.joblib",
      "import itertools\nclass R:\n    def __reduce__(self):\n        return (list, (itertools.count(),))\nobj = R()",
    );
    const run = await runSandboxed(env, loaderPath(), file, null, { wallMs: 60_000, cpuSeconds: 60, memoryBytes: 512 * 1024 ** 2 });
    // Python raises MemoryError at the address-space limit (reported as the failure), or the kernel kills it.
    if (run.kind === "answered") expect(run.output).toMatchObject({ ok: false, error: expect.stringContaining("MemoryError") });
    else expect(run.kind === "killed" && run.reason).toMatch(/memory|limit/);
  });
});

describe("asking the serving Python while a plan scans", () => {
  it("asks without blocking: callers at the same time share one question, and the blocking probe then knows it", async () => {
    // A copy of the interpreter under a name no other test asked, so this process has not asked it yet.
    const dir = mkdtempSync(join(tmpdir(), "probe-soon-"));
    const python = join(dir, "python3");
    writeFileSync(python, `#!/bin/sh\necho asked >> ${dir}/asked\nexec ${PYTHON} "$@"\n`);
    chmodSync(python, 0o755);
    try {
      const [a, b] = await Promise.all([probePythonSoon(python), probePythonSoon(python)]);
      expect(a).toBe(b);
      expect(probePython(python)).toBe(a);
      expect(a).toMatchObject({ configured: python, versions: { "scikit-learn": expect.any(String) } });
      expect(readFileSync(join(dir, "asked"), "utf8")).toBe("asked\n");
      expect(await probePythonSoon(join(dir, "missing"))).toMatch(/could not be run \(ENOENT\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
