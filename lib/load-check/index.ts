// The loads_and_predicts readiness check's effects: find the serving Python, run the loader on the candidate
// in the sandbox (sandbox.ts), remember the answer by the model's sha256 and the environment. The check's
// rule is pure and lives with the others (lib/registry/checks.ts, loadsAndPredicts).
import { createHash } from "node:crypto";
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from "node:fs";
import { delimiter, join, resolve } from "node:path";
import type { LoadCheckFacts } from "@/lib/registry/checks";
import type { JsonValue } from "@/lib/registry/metrics";
import { type LoadCheckPolicy, loadCheckPolicyFromEnv } from "./mode";
import { DEFAULT_LIMITS, type PythonEnv, probePython, runSandboxed, type SandboxLimits, sandboxUnavailable } from "./sandbox";

export { LOAD_CHECK_MODES, type LoadCheckMode, type LoadCheckPolicy, loadCheckPolicyFromEnv } from "./mode";
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

/**
 * Runs the loads_and_predicts check on one version's model file. `verdict` must be the static inspector's
 * verdict on these very bytes: anything but "safe" is never loaded. `policy` (the registry's setting, see
 * lib/settings; the environment alone by default) says whether it runs and whether "not run" blocks.
 * Remembers answers (not limits hit or a missing sandbox) under <root>/.registry/load-checks/, keyed by the
 * file's sha256 and the environment (interpreter, package versions, loader, limits). Never throws.
 */
export async function runLoadCheck(
  root: string,
  model: { file: string; sha256: string; stem: string },
  verdict: string,
  policy: LoadCheckPolicy = loadCheckPolicyFromEnv(),
): Promise<LoadCheckFacts> {
  const blocks = policy.mode === "required";
  if (policy.mode === "off") return notRun(switchedOff(policy), blocks, {});
  if (verdict !== "safe") {
    return notRun(`the static inspector judged the file ${verdict}, and a file is loaded only when it is safe`, blocks, {});
  }
  const env = pythonEnvironment(root);
  if (typeof env === "string") return notRun(env, blocks, {});
  if (!env.versions["scikit-learn"] || !env.versions.joblib) {
    return notRun(
      `scikit-learn or joblib is not installed for ${env.configured} (set REGISTRY_LOAD_PYTHON to the serving environment's python)`,
      blocks,
      {
        python: env.executable,
        versions: env.versions,
      },
    );
  }
  const limits = limitsFromEnv();
  const sample = sampleFile(root, model.stem);
  const key = cacheKey(model.sha256, env, limits, sample);
  const cached = readCached(root, key);
  if (cached) return cached;
  const sandbox = sandboxUnavailable();
  if (sandbox) return notRun(sandbox, blocks, { python: env.executable, versions: env.versions });
  const run = await runSandboxed(env, loaderPath(), join(root, model.file), sample, limits);
  const facts = factsOf(run, env, limits, sample, blocks);
  // A kill at the wall clock depends on the machine's load: it is tried again next time, not remembered.
  if (run.kind === "answered" || (run.kind === "killed" && !run.reason.startsWith("stopped at the wall-clock")))
    writeCached(root, key, facts);
  return facts;
}

function factsOf(
  run: Awaited<ReturnType<typeof runSandboxed>>,
  env: PythonEnv,
  limits: SandboxLimits,
  sample: string | null,
  blocks: boolean,
): LoadCheckFacts {
  const base: Record<string, JsonValue> = {
    python: env.executable,
    limits: { wallSeconds: limits.wallMs / 1000, cpuSeconds: limits.cpuSeconds, memoryMiB: Math.round(limits.memoryBytes / 1024 ** 2) },
    sample: sample ? "samples file" : "built from cat_cols/num_cols",
    sandbox: "bubblewrap: no network, user nobody, read-only model, private /tmp",
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

/** A team's sample rows for this model type, if they provide one: <root>/samples/{model_type}.csv. */
function sampleFile(root: string, stem: string): string | null {
  const type = stem.slice(0, stem.lastIndexOf("_"));
  const file = join(root, "samples", `${type}.csv`);
  return type && existsSync(file) ? file : null;
}

function cacheKey(sha256: string, env: PythonEnv, limits: SandboxLimits, sample: string | null): string {
  const loader = loaderBytes(loaderPath());
  const sampleBytes = sample ? readFileSync(sample) : Buffer.alloc(0);
  const hash = createHash("sha256").update(JSON.stringify({ env, limits })).update(loader).update(sampleBytes).digest("hex");
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
 * installing or upgrading scikit-learn is seen at once. A string says why there is no usable Python.
 */
function pythonEnvironment(root: string): PythonEnv | string {
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
