// The loads_and_predicts readiness check's effects: find the serving Python, run the loader on the candidate
// in the sandbox (sandbox.ts), remember the answer by the model's sha256 and the environment. The check's
// rule is pure and lives with the others (lib/registry/checks.ts, loadsAndPredicts).
import { createHash } from "node:crypto";
import {
  accessSync,
  closeSync,
  constants,
  createWriteStream,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { chmod, mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import type { LoadCheckFacts } from "@/lib/registry/checks";
import type { JsonValue } from "@/lib/registry/metrics";
import { type LoadCheckPolicy, loadCheckPolicyFromEnv } from "./mode";
import { type LoadCheckProgress, progressText } from "./progress";
import {
  DEFAULT_LIMITS,
  knownProbe,
  type PythonEnv,
  probePython,
  probePythonSoon,
  runSandboxed,
  type SandboxLimits,
  sandboxUnavailable,
} from "./sandbox";

export { LOAD_CHECK_MODES, type LoadCheckMode, type LoadCheckPolicy, loadCheckPolicyFromEnv } from "./mode";
export type { LoadCheckProgress } from "./progress";
export { DEFAULT_LIMITS, probePython, sandboxUnavailable } from "./sandbox";

/** The loader script: REGISTRY_LOAD_LOADER (set by the CLI's launcher), else lib/load-check/loader.py here. */
export function loaderPath(): string {
  return resolve(/*turbopackIgnore: true*/ process.env.REGISTRY_LOAD_LOADER ?? join(process.cwd(), "lib/load-check/loader.py"));
}

/** Limits from the environment (REGISTRY_LOAD_TIMEOUT_S, REGISTRY_LOAD_CPU_S, REGISTRY_LOAD_MEMORY_MB), else the defaults. */
export function limitsFromEnv(env: Record<string, string | undefined> = process.env): SandboxLimits {
  const n = (v: string | undefined, fallback: number) => (v && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : fallback);
  return {
    wallMs: n(env.REGISTRY_LOAD_TIMEOUT_S, DEFAULT_LIMITS.wallMs / 1000) * 1000,
    cpuSeconds: n(env.REGISTRY_LOAD_CPU_S, DEFAULT_LIMITS.cpuSeconds),
    memoryBytes: n(env.REGISTRY_LOAD_MEMORY_MB, DEFAULT_LIMITS.memoryBytes / 1024 ** 2) * 1024 ** 2,
  };
}

/** A model file to check: its path inside the registry, the sha256 the static inspector judged, its version name. */
export interface ModelRef {
  file: string;
  sha256: string;
  stem: string;
}

/** Where a check stands without waiting for it: answered, running in the sandbox now, or never asked. */
export type LoadCheckState =
  | { state: "done"; facts: LoadCheckFacts }
  | ({ state: "running" } & LoadCheckProgress)
  | { state: "unchecked" };

/**
 * Runs the loads_and_predicts check on one version's model file. `verdict` must be the static inspector's
 * verdict on these very bytes: anything but "safe" is never loaded. `policy` (the registry's setting, see
 * lib/settings; the environment alone by default) says whether it runs and whether "not run" blocks; with
 * `wait: false` a check not answered yet is started and reported as running (the preview polls for it); with
 * `start: false` none is started, and null says nothing is known yet (a read by someone who may not promote).
 * One run at a time per model and environment: a caller that asks while it runs joins it, so no caller waits
 * longer than the run's wall-clock limit. Remembers answers (not limits hit or a missing sandbox) under
 * <root>/.registry/load-checks/, keyed by the file's sha256 and the environment (interpreter, package
 * versions, loader, limits). Never throws.
 */
export async function runLoadCheck(root: string, model: ModelRef, verdict: string, policy?: LoadCheckPolicy & { start?: true }): Promise<LoadCheckFacts>;
export async function runLoadCheck(root: string, model: ModelRef, verdict: string, policy: LoadCheckPolicy): Promise<LoadCheckFacts | null>;
export async function runLoadCheck(
  root: string,
  model: ModelRef,
  verdict: string,
  policy: LoadCheckPolicy = loadCheckPolicyFromEnv(),
): Promise<LoadCheckFacts | null> {
  if (policy.start === false) {
    const seen = peekLoadCheck(root, model, verdict, policy);
    return seen.state === "done" ? seen.facts : seen.state === "running" ? runningFacts(seen) : null;
  }
  if (policy.mode !== "off" && verdict === "safe") await askPythonSoon(root);
  const ready = prepare(root, model, verdict, policy, true);
  if (ready.kind === "done") return stamp(ready.facts, policy);
  if (ready.kind === "unknown") return stamp(notRun("the serving Python could not be asked", false, {}), policy);
  // A finished run found here was not remembered (prepare found no answer on disk: a wall-clock kill, no
  // sandbox): a promotion runs it again rather than repeat it for the server's life; a preview, which plans
  // again when a run ends, takes its answer.
  const job = startJob(root, model, ready, policy.wait !== false);
  if (policy.wait === false && !job.facts) return runningFacts(progressOf(job));
  return stamp(await job.promise, policy);
}

/**
 * Starts asking the serving Python for its facts, unless they are remembered or the check is off, so that a
 * plan can scan the registry meanwhile (the question starts an interpreter: ~0.3 s). Never throws, never waits.
 */
export function warmLoadCheck(root: string, policy: LoadCheckPolicy): void {
  if (policy.mode !== "off") void askPythonSoon(root).catch(() => undefined);
}

/** The serving Python's facts asked without blocking, when neither the registry nor this process knows them. */
async function askPythonSoon(root: string): Promise<void> {
  if (pythonEnvironment(root, false) === null) await probePythonSoon(process.env.REGISTRY_LOAD_PYTHON || "python3");
}

/**
 * Starts the check in the background (joining a run already going) and says where it stands: for a page's
 * button, which then polls `peekLoadCheck`. A finished run that was not remembered (a limit hit, no sandbox)
 * is started again. Never throws; never waits for the sandbox.
 */
export function startLoadCheck(root: string, model: ModelRef, verdict: string, policy: LoadCheckPolicy): LoadCheckState {
  const ready = prepare(root, model, verdict, policy, true);
  if (ready.kind === "done") return { state: "done", facts: stamp(ready.facts, policy) };
  if (ready.kind === "unknown") return { state: "unchecked" };
  const known = jobs().get(jobKey(root, ready.key));
  const job = known && !known.facts ? known : startJob(root, model, ready, true);
  return stateOf(job, policy);
}

/**
 * Where the check on these bytes stands, without starting anything or asking the serving Python (a page
 * renders with this: it never runs the sandbox). `verdict` null looks up only (a poll that did not inspect).
 */
export function peekLoadCheck(root: string, model: ModelRef, verdict: string | null, policy: LoadCheckPolicy): LoadCheckState {
  const ready = prepare(root, model, verdict, policy, false);
  if (ready.kind === "done") return { state: "done", facts: stamp(ready.facts, policy) };
  if (ready.kind === "unknown") return { state: "unchecked" };
  const job = jobs().get(jobKey(root, ready.key));
  return job ? stateOf(job, policy) : { state: "unchecked" };
}

interface Ready {
  kind: "ready";
  key: string;
  env: PythonEnv;
  limits: SandboxLimits;
  sample: Sample | null;
}

/** Everything decided before the sandbox: a "not run" answer, a remembered answer, or what a run needs. */
function prepare(
  root: string,
  model: ModelRef,
  verdict: string | null,
  policy: LoadCheckPolicy,
  probe: boolean,
): { kind: "done"; facts: LoadCheckFacts } | Ready | { kind: "unknown" } {
  const blocks = policy.mode === "required";
  const done = (facts: LoadCheckFacts) => ({ kind: "done" as const, facts });
  if (policy.mode === "off") return done(notRun(switchedOff(policy), blocks, {}));
  if (verdict !== null && verdict !== "safe") {
    return done(notRun(`the static inspector judged the file ${verdict}, and a file is loaded only when it is safe`, blocks, {}));
  }
  const env = pythonEnvironment(root, probe);
  if (env === null) return { kind: "unknown" };
  if (typeof env === "string") return done(notRun(env, blocks, {}));
  if (!env.versions["scikit-learn"] || !env.versions.joblib) {
    return done(
      notRun(
        `scikit-learn or joblib is not installed for ${env.configured} (set REGISTRY_LOAD_PYTHON to the serving environment's python)`,
        blocks,
        { python: env.executable, versions: env.versions },
      ),
    );
  }
  const limits = limitsFromEnv();
  const sample = sampleFile(root, model.stem);
  if (typeof sample === "string") return done(notRun(sample, blocks, { python: env.executable, versions: env.versions }));
  const key = cacheKey(model.sha256, env, limits, sample);
  const cached = readCached(root, key);
  return cached ? done(cached) : { kind: "ready", key, env, limits, sample };
}

interface Job {
  /** When it was asked for; `startedAt` when its sandbox started (null while it waits for a free one). */
  queuedAt: number;
  startedAt: number | null;
  limitMs: number;
  promise: Promise<LoadCheckFacts>;
  /** Set when the run is over. */
  facts: LoadCheckFacts | null;
}

const FINISHED_KEPT = 200;
const JOBS = Symbol.for("model-registry.load-check.jobs");

/** This process's runs, on globalThis: a page and a server action may load this module apart, and must share them. */
function jobs(): Map<string, Job> {
  const g = globalThis as unknown as Record<symbol, Map<string, Job> | undefined>;
  let map = g[JOBS];
  if (!map) {
    map = new Map();
    g[JOBS] = map;
  }
  return map;
}

const jobKey = (root: string, key: string) => `${root}\0${key}`;

/** The run for these bytes and this environment: the one going, else a new one (`again`: even after a finished one). */
function startJob(root: string, model: ModelRef, ready: Ready, again = false): Job {
  const map = jobs();
  const id = jobKey(root, ready.key);
  const known = map.get(id);
  if (known && (!known.facts || !again)) return known;
  const job: Job = { queuedAt: Date.now(), startedAt: null, limitMs: ready.limits.wallMs, promise: Promise.resolve(null as never), facts: null };
  job.promise = sandboxTurn(() => {
    job.startedAt = Date.now();
  }).then(async (release) => {
    try {
      job.facts = await sandboxRun(root, model, ready);
    } finally {
      release();
    }
    forgetOldest(map);
    return job.facts;
  });
  map.delete(id);
  map.set(id, job);
  return job;
}

const TURNS = Symbol.for("model-registry.load-check.turns");

/** How many sandboxes may run at once in this process (REGISTRY_LOAD_CONCURRENCY, default 2): each may take a CPU and its memory limit. */
export function sandboxConcurrency(env: Record<string, string | undefined> = process.env): number {
  const n = Number(env.REGISTRY_LOAD_CONCURRENCY);
  return Number.isInteger(n) && n > 0 ? n : 2;
}

/**
 * Waits for a free sandbox (first come, first served; shared on globalThis like the runs): `onStart` is called
 * the moment it is this run's turn, and the promise gives the function that frees the sandbox again.
 */
function sandboxTurn(onStart: () => void): Promise<() => void> {
  const g = globalThis as unknown as Record<symbol, { busy: number; waiting: (() => void)[] } | undefined>;
  g[TURNS] ??= { busy: 0, waiting: [] };
  const turns = g[TURNS];
  return new Promise((resolve) => {
    const take = () => {
      turns.busy++;
      onStart();
      resolve(() => {
        turns.busy--;
        turns.waiting.shift()?.();
      });
    };
    if (turns.busy < sandboxConcurrency()) take();
    else turns.waiting.push(take);
  });
}

function forgetOldest(map: Map<string, Job>): void {
  const finished = [...map].filter(([, j]) => j.facts);
  for (const [id] of finished.slice(0, Math.max(0, finished.length - FINISHED_KEPT))) map.delete(id);
}

async function sandboxRun(root: string, model: ModelRef, { key, env, limits, sample }: Ready): Promise<LoadCheckFacts> {
  try {
    const sandbox = sandboxUnavailable();
    if (sandbox) return notRun(sandbox, false, { python: env.executable, versions: env.versions });
    const copy = await privateCopy(join(root, model.file), model.sha256);
    if (typeof copy === "string") return notRun(copy, false, { python: env.executable, versions: env.versions });
    try {
      const rows = sample ? sampleCopy(root, sample, copy.dir) : null;
      if (typeof rows === "string") return notRun(rows, false, { python: env.executable, versions: env.versions });
      const run = await runSandboxed(env, loaderPath(), copy.file, rows?.file ?? null, limits);
      const facts = factsOf(run, env, limits, sample, false);
      // A kill at the wall clock depends on the machine's load: it is tried again next time, not remembered.
      if (run.kind === "answered" || (run.kind === "killed" && !run.reason.startsWith("stopped at the wall-clock")))
        writeCached(root, key, facts);
      return facts;
    } finally {
      await rm(copy.dir, { recursive: true, force: true });
    }
  } catch (e) {
    return notRun(`the sandbox could not be started (${(e as Error).message.slice(0, 200)})`, false, {});
  }
}

/**
 * The one model file, copied for the sandbox into a private temp dir (0700, ours): the registry's file may be
 * readable only by its owner (0600), which the sandbox's unprivileged user cannot read, and the sandbox must
 * see exactly the bytes the static inspector judged. The copy's sha256 must equal `sha256` (else the file
 * changed between the inspection and this load, and nothing is loaded: a string says so). Opened without
 * following a link; the copy is made read-only and bound read-only.
 */
async function privateCopy(source: string, sha256: string): Promise<{ dir: string; file: string } | string> {
  const dir = await mkdtemp(join(tmpdir(), "registry-load-check-"));
  const file = join(dir, "model.joblib");
  try {
    const hash = createHash("sha256");
    // Non-blocking open and a check on the opened descriptor: a named pipe swapped in after the scan would
    // otherwise hold the open (and the promotion waiting on this run) forever.
    const handle = await open(source, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw Object.assign(new Error("not a regular file"), { code: "ENOTREG" });
    }
    const input = handle.createReadStream();
    input.on("data", (chunk) => hash.update(chunk));
    await pipeline(input, createWriteStream(file, { flags: "wx", mode: 0o600 }));
    const copied = hash.digest("hex");
    if (copied !== sha256) {
      await rm(dir, { recursive: true, force: true });
      return `the model file changed after the static inspector judged it (sha256 ${sha256.slice(0, 12)}…, now ${copied.slice(0, 12)}…), so it was not loaded; plan again`;
    }
    // Readable by the sandbox's user (nobody), writable by none; the folder stays ours alone.
    await chmod(file, 0o444);
    return { dir, file };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    return `the model file could not be copied for the sandbox (${(e as NodeJS.ErrnoException).code ?? (e as Error).message.slice(0, 120)})`;
  }
}

/** The sample rows that were hashed, written beside the private model copy; a string if the file changed since. */
function sampleCopy(root: string, sample: Sample, dir: string): { file: string } | string {
  const read = readSample(root, sample.name, "bytes");
  if (read === null || typeof read === "string" || createHash("sha256").update(read.bytes).digest("hex") !== sample.sha256) {
    return typeof read === "string" ? read : `the sample file ${sample.name} changed while the check was starting; plan again`;
  }
  const file = join(dir, "sample.csv");
  writeFileSync(file, read.bytes, { flag: "wx", mode: 0o444 });
  return { file };
}

function stateOf(job: Job, policy: LoadCheckPolicy): LoadCheckState {
  return job.facts ? { state: "done", facts: stamp(job.facts, policy) } : { state: "running", ...progressOf(job) };
}

/** Time in the sandbox against its limit, or (`waiting`) time spent waiting for a free one. */
function progressOf(job: Job): LoadCheckProgress {
  return job.startedAt === null
    ? { elapsedMs: Date.now() - job.queuedAt, limitMs: job.limitMs, waiting: { slots: sandboxConcurrency() } }
    : { elapsedMs: Date.now() - job.startedAt, limitMs: job.limitMs };
}

function runningFacts(progress: LoadCheckProgress): LoadCheckFacts {
  return { status: "running", detail: `${progressText(progress)}.`, evidence: { ...progress } };
}

/** Whether "not run" blocks is the setting's, now: a remembered or shared answer is stamped for this caller. */
function stamp(facts: LoadCheckFacts, policy: LoadCheckPolicy): LoadCheckFacts {
  if (facts.status !== "not_run") return facts;
  const blocks = policy.mode === "required";
  return { ...facts, evidence: { ...facts.evidence, notRunBlocks: blocks }, notRunBlocks: blocks };
}

function factsOf(
  run: Awaited<ReturnType<typeof runSandboxed>>,
  env: PythonEnv,
  limits: SandboxLimits,
  sample: Sample | null,
  blocks: boolean,
): LoadCheckFacts {
  const base: Record<string, JsonValue> = {
    python: env.executable,
    limits: { wallSeconds: limits.wallMs / 1000, cpuSeconds: limits.cpuSeconds, memoryMiB: Math.round(limits.memoryBytes / 1024 ** 2) },
    sample: sample ? sample.note : "built from cat_cols/num_cols",
    sandbox: "bubblewrap: no network, user nobody, a read-only private copy of the model (sha256 checked), private /tmp",
  };
  if (run.kind === "unavailable") return notRun(run.reason, blocks, base);
  if (run.kind === "killed") {
    return {
      status: "failed",
      detail: `The model was stopped in the sandbox: ${run.reason}.`,
      evidence: { ...base, elapsedMs: run.elapsedMs, stderr: run.stderr.slice(-500) },
    };
  }
  const o = run.output;
  const evidence: Record<string, JsonValue> = { ...base, elapsedMs: run.elapsedMs, ...(jsonOnly(o) as Record<string, JsonValue>) };
  if (o.ran === false) return notRun(`the serving Python could not import what loading needs (${String(o.error)})`, blocks, evidence);
  if (o.ok === true) {
    const shape = Array.isArray(o.outputShape) ? o.outputShape.join("×") : "?";
    return {
      status: "passed",
      detail: `Loaded in ${o.loadMs} ms and ${String(o.method)} gave ${shape} values in [${fmt(o.min)}, ${fmt(o.max)}] in ${o.predictMs} ms (scikit-learn ${(o.versions as Record<string, string>)?.sklearn ?? "?"}).`,
      evidence,
    };
  }
  return { status: "failed", detail: `The model does not load and predict: ${String(o.error ?? "no answer")}`, evidence };
}

function switchedOff(policy: LoadCheckPolicy): string {
  return policy.source === "env"
    ? "switched off (REGISTRY_LOAD_CHECK=off)"
    : "switched off in the registry settings (Load-and-predict check: off)";
}

function notRun(reason: string, blocks: boolean, evidence: Record<string, JsonValue>): LoadCheckFacts {
  return { status: "not_run", detail: `Not run: ${reason}.`, evidence: { ...evidence, notRunBlocks: blocks }, notRunBlocks: blocks };
}

const fmt = (v: unknown) => (typeof v === "number" ? v.toFixed(4) : "?");

function jsonOnly(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}

/** The sandbox sees at most this much of a team's sample file (cut at a row's end): the loader reads 20 rows. */
const SAMPLE_MAX_BYTES = 1024 ** 2;

/** A team's sample rows for a model type: the hash of the part the sandbox is given, and what the evidence says. */
interface Sample {
  /** "samples/{model_type}.csv", for messages and evidence. */
  name: string;
  sha256: string;
  /** What the evidence says was used, e.g. "samples/x.csv (19 bytes)". */
  note: string;
}

/**
 * The team's sample rows for this model's type, if they provide one: <root>/samples/{model_type}.csv, a
 * regular file inside the registry (not a link, not a pipe: opened without following or blocking), of which
 * the first SAMPLE_MAX_BYTES, cut at a row's end, are used. A page asks on every render, so the hash is kept
 * while the file's stat is unchanged. null: no sample; a string: what is wrong with it.
 */
function sampleFile(root: string, stem: string): Sample | string | null {
  const type = stem.slice(0, stem.lastIndexOf("_"));
  if (!type) return null;
  const name = `samples/${type}.csv`;
  const path = join(root, name);
  const stat = readSample(root, name, "stat");
  if (stat === null || typeof stat === "string") return stat;
  const known = sampleHashes.get(path);
  if (known?.stamp === stat.stamp) return known.sample;
  const read = readSample(root, name, "bytes");
  if (read === null || typeof read === "string") return read;
  const used = read.bytes.length;
  const sample: Sample = {
    name,
    sha256: createHash("sha256").update(read.bytes).digest("hex"),
    note: used === read.size ? `${name} (${used} bytes)` : `${name} (first ${used} of ${read.size} bytes)`,
  };
  if (sampleHashes.size >= 1000) sampleHashes.clear();
  sampleHashes.set(path, { stamp: read.stamp, sample });
  return sample;
}

const sampleHashes = new Map<string, { stamp: string; sample: Sample }>();

/**
 * Opens `name` under the registry without following a link or waiting on a pipe: its stat stamp and size, and
 * for "bytes" the part the sandbox is given. null when there is no such file; a string says what is wrong.
 */
function readSample(root: string, name: string, want: "stat"): { stamp: string; size: number } | string | null;
function readSample(root: string, name: string, want: "bytes"): { stamp: string; size: number; bytes: Buffer } | string | null;
function readSample(root: string, name: string, want: "stat" | "bytes"): { stamp: string; size: number; bytes?: Buffer } | string | null {
  let fd: number;
  try {
    const dir = realpathSync(join(root, "samples"));
    if (!`${dir}/`.startsWith(`${realpathSync(root)}/`)) return `the sample file ${name} is outside the registry (samples/ is a link); copy the file in`;
    fd = openSync(join(root, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    if (code === "ELOOP") return `the sample file ${name} is a link; copy the file in instead`;
    return `the sample file ${name} could not be read (${code ?? "error"})`;
  }
  try {
    const st = fstatSync(fd, { bigint: true });
    if (!st.isFile()) return `the sample file ${name} is not a regular file; give a CSV with a header row`;
    const size = Number(st.size);
    const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    if (want === "stat") return { stamp, size };
    const buffer = Buffer.alloc(Math.min(size, SAMPLE_MAX_BYTES));
    let bytes = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0));
    if (size > bytes.length) {
      const end = bytes.lastIndexOf(0x0a);
      if (end < 0) return `the first ${bytes.length} bytes of the sample file ${name} hold no complete row`;
      bytes = bytes.subarray(0, end + 1);
    }
    return { stamp, size, bytes };
  } finally {
    closeSync(fd);
  }
}

function cacheKey(sha256: string, env: PythonEnv, limits: SandboxLimits, sample: Sample | null): string {
  const loader = loaderBytes(loaderPath());
  const hash = createHash("sha256")
    .update(JSON.stringify({ env, limits, sample: sample?.sha256 ?? null }))
    .update(loader)
    .digest("hex");
  return `${sha256}-${hash.slice(0, 16)}`;
}

const CACHE_DIR = join(".registry", "load-checks");

// The loader is part of the cache key; it changes only with a new release, so it is read once per process.
const loaders = new Map<string, Buffer>();
function loaderBytes(path: string): Buffer {
  let bytes = loaders.get(path);
  if (!bytes) {
    bytes = readFileSync(path);
    loaders.set(path, bytes);
  }
  return bytes;
}

function readCached(root: string, key: string): LoadCheckFacts | null {
  try {
    const facts = JSON.parse(readFileSync(join(root, CACHE_DIR, `${key}.json`), "utf8")) as LoadCheckFacts;
    return facts.status === "passed" || facts.status === "failed" ? facts : null;
  } catch {
    return null;
  }
}

function writeCached(root: string, key: string, facts: LoadCheckFacts): void {
  writeAtomic(join(root, CACHE_DIR, `${key}.json`), JSON.stringify(facts));
}

/** Temp file, fsync, rename: a reader sees the old file or the new one. Best effort: a read-only registry just asks again. */
function writeAtomic(file: string, text: string): void {
  try {
    mkdirSync(join(file, ".."), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    const fd = openSync(temp, "w", 0o644);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch {
    // Remembered next time instead.
  }
}

/**
 * The serving Python's facts without starting it on every command: asked once (probePython) and kept under
 * .registry/load-checks/ while the interpreter file and its package folders are unchanged (their stat), so
 * installing or upgrading scikit-learn is seen at once. A string says why there is no usable Python; null,
 * with `probe` false, that it was not asked yet (the interpreter is not started to find out).
 */
function pythonEnvironment(root: string, probe: boolean): PythonEnv | string | null {
  const configured = process.env.REGISTRY_LOAD_PYTHON || "python3";
  const exe = onPath(configured);
  if (!exe) return `${configured} was not found; set REGISTRY_LOAD_PYTHON to the serving environment's python`;
  const st = statSync(exe);
  const file = join(
    root,
    CACHE_DIR,
    `python-${createHash("sha256").update(`${configured}\0${exe}\0${st.ino}\0${st.mtimeMs}\0${st.size}`).digest("hex").slice(0, 16)}.json`,
  );
  try {
    const saved = JSON.parse(readFileSync(file, "utf8")) as { env: PythonEnv; watch: [string, number][] };
    if (saved.watch.every(([dir, mtime]) => mtimeOf(dir) === mtime)) return saved.env;
  } catch {
    // Not asked yet, or changed since: ask.
  }
  // Asked in this process already (a registry where the answer cannot be written), or never: null.
  if (!probe) return knownProbe(configured) ?? null;
  const env = probePython(configured);
  if (typeof env === "string") return env;
  const watch = packageDirs(env.prefixes).map((dir): [string, number] => [dir, mtimeOf(dir)]);
  writeAtomic(file, JSON.stringify({ env, watch }));
  return env;
}

function onPath(command: string): string | null {
  const candidates = command.includes("/") ? [command] : (process.env.PATH ?? "").split(delimiter).map((d) => join(d, command));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return resolve(c);
    } catch {
      // Next one.
    }
  }
  return null;
}

function mtimeOf(dir: string): number {
  try {
    return statSync(dir).mtimeMs;
  } catch {
    return -1;
  }
}

/** Where packages of these prefixes live (site-packages, Debian's dist-packages). */
function packageDirs(prefixes: string[]): string[] {
  const dirs = new Set<string>();
  for (const prefix of prefixes) {
    for (const base of [join(prefix, "lib"), join(prefix, "local", "lib")]) {
      let names: string[] = [];
      try {
        names = readdirSync(base).filter((n) => /^python3(\.\d+)?$/.test(n));
      } catch {
        continue;
      }
      for (const n of names)
        for (const sub of ["site-packages", "dist-packages"]) if (existsSync(join(base, n, sub))) dirs.add(join(base, n, sub));
    }
  }
  return [...dirs].sort();
}
