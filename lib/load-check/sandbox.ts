// Runs lib/load-check/loader.py on one model file in a sandbox: bubblewrap (Debian's `bubblewrap`) with no
// network (its own network namespace), its own user namespace as `nobody`, a read-only view of the Python
// install, the loader and the one model file, a private /tmp, and prlimit's CPU-time, address-space and
// file-size limits; the wall clock is enforced here by killing it, and its output is read up to a cap.
// Never called for a file the static inspector did not judge safe, and given only a private copy of its bytes
// whose sha256 was checked against that verdict (see runLoadCheck).
import { execFile, spawn, spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { dirname, resolve } from "node:path";

export interface SandboxLimits {
  /** Wall-clock limit for the whole run, ms. */
  wallMs: number;
  /** CPU seconds (RLIMIT_CPU). */
  cpuSeconds: number;
  /** Address space, bytes (RLIMIT_AS). */
  memoryBytes: number;
}

export const DEFAULT_LIMITS: SandboxLimits = { wallMs: 60_000, cpuSeconds: 30, memoryBytes: 2 * 1024 ** 3 };
const MAX_OUTPUT = 64 * 1024;
const BWRAP = "/usr/bin/bwrap";
const PRLIMIT = "/usr/bin/prlimit";

/** What the loader printed, or why there is nothing to read. */
export type SandboxRun =
  | { kind: "answered"; output: Record<string, unknown>; elapsedMs: number }
  | { kind: "killed"; reason: string; elapsedMs: number; stderr: string }
  | { kind: "unavailable"; reason: string };

export interface PythonEnv {
  /** The interpreter as configured (REGISTRY_LOAD_PYTHON, default python3) and as resolved. */
  configured: string;
  executable: string;
  /** Folders the interpreter needs, bound read-only into the sandbox. */
  prefixes: string[];
  /** scikit-learn, joblib, numpy, pandas as installed (from package metadata, nothing imported). */
  versions: Record<string, string | null>;
}

const PROBE = `
import sys, json, importlib.metadata as m
def v(n):
    try: return m.version(n)
    except Exception: return None
print(json.dumps({"executable": sys.executable, "prefixes": sorted({sys.prefix, sys.base_prefix, sys.exec_prefix}),
  "versions": {"python": sys.version.split()[0], "scikit-learn": v("scikit-learn"), "joblib": v("joblib"), "numpy": v("numpy"), "pandas": v("pandas")}}))
`;

const probes = new Map<string, PythonEnv | string>();
const pending = new Map<string, Promise<PythonEnv | string>>();

// Outside the sandbox (no model is loaded), but with none of the server's environment: DATABASE_URL or a
// token must not reach whatever the team's interpreter runs at start-up. Only what finds the interpreter.
function probeEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    ["PATH", "HOME", "PYENV_ROOT", "PYENV_VERSION"].flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])),
  ) as NodeJS.ProcessEnv;
}

const PROBE_OPTIONS = { encoding: "utf8" as const, timeout: 20_000, maxBuffer: MAX_OUTPUT };

/** The probe's answer from how the interpreter ended and what it printed. */
function answerOf(configured: string, failure: string | null, stdout: string): PythonEnv | string {
  if (failure) return `${configured} could not be run (${failure}); set REGISTRY_LOAD_PYTHON to the serving environment's python`;
  try {
    const facts = JSON.parse(stdout) as { executable: string; prefixes: string[]; versions: Record<string, string | null> };
    const executable = realpathSync(facts.executable);
    return { configured, executable, prefixes: [...new Set([...facts.prefixes, dirname(executable)])], versions: facts.versions };
  } catch {
    return `${configured} answered something other than its version facts`;
  }
}

/**
 * The serving Python's facts, asked once per process (it runs the interpreter with no model: package
 * metadata only). A string says why there is no usable Python. Waits for the interpreter; see probePythonSoon.
 */
export function probePython(configured = process.env.REGISTRY_LOAD_PYTHON || "python3"): PythonEnv | string {
  const known = probes.get(configured);
  if (known) return known;
  const r = spawnSync(configured, ["-I", "-c", PROBE], { ...PROBE_OPTIONS, env: probeEnv() });
  const failure = r.error ? String((r.error as NodeJS.ErrnoException).code) : r.status !== 0 ? `exit ${r.status}` : null;
  const answer = answerOf(configured, failure, r.stdout);
  probes.set(configured, answer);
  return answer;
}

/**
 * Asks the serving Python for its facts without blocking this process (once per process; callers at the same
 * time share the one question), so a plan can ask while it scans the registry. probePython then answers at once.
 */
export function probePythonSoon(configured = process.env.REGISTRY_LOAD_PYTHON || "python3"): Promise<PythonEnv | string> {
  const known = probes.get(configured);
  if (known) return Promise.resolve(known);
  let asked = pending.get(configured);
  if (!asked) {
    asked = new Promise((done) => {
      execFile(configured, ["-I", "-c", PROBE], { ...PROBE_OPTIONS, env: probeEnv() }, (error, stdout) => {
        const failure = error ? (typeof error.code === "number" ? `exit ${error.code}` : String(error.code ?? error.signal)) : null;
        const answer = probes.get(configured) ?? answerOf(configured, failure, stdout);
        probes.set(configured, answer);
        pending.delete(configured);
        done(answer);
      });
    });
    pending.set(configured, asked);
  }
  return asked;
}

/** The serving Python's facts if this process asked already, else undefined: never starts it. */
export function knownProbe(configured: string): PythonEnv | string | undefined {
  return probes.get(configured);
}

/** Why the sandbox cannot run here, or null when bubblewrap works. Asked once per process. */
let sandboxProblem: string | null | undefined;
export function sandboxUnavailable(): string | null {
  if (sandboxProblem !== undefined) return sandboxProblem;
  if (!existsSync(BWRAP) || !existsSync(PRLIMIT)) {
    sandboxProblem = "no sandbox available (install Debian's bubblewrap; prlimit comes with util-linux)";
    return sandboxProblem;
  }
  const r = spawnSync(BWRAP, [...baseArgs([]), "--", "/bin/true"], { encoding: "utf8", timeout: 10_000 });
  sandboxProblem =
    r.status === 0 ? null : `bubblewrap cannot create a sandbox here (${(r.stderr || String(r.error ?? r.status)).trim().slice(0, 200)})`;
  return sandboxProblem;
}

function baseArgs(prefixes: string[]): string[] {
  // Debian reaches BLAS and friends through /etc/alternatives; nothing else of /etc is shown.
  const system = ["/usr", "/bin", "/lib", "/lib64", "/sbin", "/etc/alternatives", "/etc/ld.so.cache"].flatMap((d) => [
    "--ro-bind-try",
    d,
    d,
  ]);
  const extra = prefixes.filter((p) => !p.startsWith("/usr/") && p !== "/usr").flatMap((p) => ["--ro-bind", p, p]);
  return [
    "--unshare-all",
    "--unshare-user",
    "--uid",
    "65534",
    "--gid",
    "65534",
    "--die-with-parent",
    "--new-session",
    "--clearenv",
    ...system,
    ...extra,
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--tmpfs",
    "/tmp",
    "--chdir",
    "/tmp",
    "--setenv",
    "HOME",
    "/tmp",
    "--setenv",
    "PATH",
    "/usr/bin:/bin",
    "--setenv",
    "PYTHONDONTWRITEBYTECODE",
    "1",
    "--setenv",
    "OMP_NUM_THREADS",
    "1",
    "--setenv",
    "OPENBLAS_NUM_THREADS",
    "1",
  ];
}

/**
 * Runs the loader on `modelPath` (and `samplePath`, if any) in the sandbox with `env`'s Python. Never
 * throws: a kill at a limit, a crash or output past the cap come back as `killed`.
 */
export function runSandboxed(
  env: PythonEnv,
  loaderPath: string,
  modelPath: string,
  samplePath: string | null,
  limits: SandboxLimits = DEFAULT_LIMITS,
): Promise<SandboxRun> {
  const problem = sandboxUnavailable();
  if (problem) return Promise.resolve({ kind: "unavailable", reason: problem });
  const args = [
    ...baseArgs(env.prefixes),
    "--ro-bind",
    resolve(loaderPath),
    "/sandbox/loader.py",
    "--ro-bind",
    resolve(modelPath),
    "/sandbox/model.joblib",
    ...(samplePath ? ["--ro-bind", resolve(samplePath), "/sandbox/sample.csv"] : []),
    "--",
    PRLIMIT,
    `--cpu=${limits.cpuSeconds}`,
    `--as=${limits.memoryBytes}`,
    `--fsize=${16 * 1024 * 1024}`,
    "--core=0",
    env.executable,
    "-I",
    "/sandbox/loader.py",
    "/sandbox/model.joblib",
    ...(samplePath ? ["/sandbox/sample.csv"] : []),
  ];
  const started = Date.now();
  return new Promise((done) => {
    // An empty environment: bwrap is pid 1 inside, and its /proc/1/environ would show the server's secrets.
    const child = spawn(BWRAP, args, { env: {} as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let killedFor: string | null = null;
    const kill = (reason: string) => {
      if (killedFor) return;
      killedFor = reason;
      child.kill("SIGKILL");
    };
    const timer = setTimeout(() => kill(`stopped at the wall-clock limit (${Math.round(limits.wallMs / 1000)} s)`), limits.wallMs);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      if (out.length > MAX_OUTPUT) kill(`stopped: it printed more than ${MAX_OUTPUT / 1024} KiB`);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      if (err.length < MAX_OUTPUT) err += chunk;
    });
    child.on("error", (e) => kill(`the sandbox could not start (${e.message})`));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const elapsedMs = Date.now() - started;
      const tail = err.trim().slice(-1500);
      if (killedFor) return done({ kind: "killed", reason: killedFor, elapsedMs, stderr: tail });
      const line = out.trim().split("\n").pop() ?? "";
      try {
        const output = JSON.parse(line) as Record<string, unknown>;
        if (typeof output === "object" && output !== null) return done({ kind: "answered", output, elapsedMs });
      } catch {
        // Not the loader's answer: the process died first.
      }
      const why =
        signal === "SIGXCPU" || signal === "SIGKILL" || code === 152 || code === 137
          ? `killed at the CPU-time or memory limit (${limits.cpuSeconds} s CPU, ${Math.round(limits.memoryBytes / 1024 ** 2)} MiB)`
          : /MemoryError|Cannot allocate memory/.test(tail)
            ? `ran out of its memory limit (${Math.round(limits.memoryBytes / 1024 ** 2)} MiB)`
            : `the loader exited (${signal ?? `code ${code}`}) without an answer`;
      done({ kind: "killed", reason: why, elapsedMs, stderr: tail });
    });
  });
}
