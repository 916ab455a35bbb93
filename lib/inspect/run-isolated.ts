// Runs the inspector off the calling thread, in a worker with heap limits and a deadline, and
// caches reports by content hash.
//
// The worker is created with `eval: true` from the small CommonJS source below, which imports a
// prebuilt ESM bundle of lib/worker/entry.ts. That way neither Next.js nor any bundler has to resolve a
// TypeScript worker file. Each program brings its own bundle, built from the same sources at the same time
// as itself: the CLI sets $REGISTRY_INSPECT_WORKER to cli/dist/inspect-worker.mjs (cli/bin.mjs), the web
// server finds <cwd>/.next/inspect-worker.mjs (written by `npm run build` and `npm run dev`). With none,
// the inspection runs in-thread, bounded by the inspector's own size limits but not by the deadline, and
// says so once on stderr.
import { existsSync } from "node:fs";
import path from "node:path";
import type { Worker } from "node:worker_threads";
import { nodeCrypto, nodeWorkerThreads } from "@/lib/lazy-builtins";
import { allowedGlobals } from "./allowlist";
import type * as Inspector from "./inspect";
import { type InspectionPolicy, type InspectionReport, type InspectLimits, resolveLimits } from "./types";
import type { InspectRequest } from "@/lib/worker/protocol";

export interface IsolatedOptions {
  /** Deadline for one inspection; default 30 s. */
  timeoutMs?: number;
  /** Worker heap cap; default 512 MiB. */
  maxOldGenerationSizeMb?: number;
  limits?: Partial<InspectLimits>;
  /**
   * The file's sha256 when the caller already knows it (the registry scan hashes every version, trusted
   * while the file's stat identity holds): a cached report is then returned without reading the file.
   */
  sha256?: string;
  /** The registry's trust list; part of the cache key, so a change to it is seen at once. */
  policy?: InspectionPolicy;
}

/**
 * The cache key's policy part: the trust list's whole content (who and when are in the report too),
 * order-independent. Empty for no trust list. Pure.
 */
export function policyFingerprint(policy: InspectionPolicy | undefined): string {
  if (!policy || policy.trusted.length === 0) return "";
  const lines = policy.trusted.map((t) => `${t.module}\0${t.name}\0${t.by}\0${t.at}`).sort();
  return `:trust-${fingerprint(lines.join("\n"))}-${lines.length}`;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_HEAP_MB = 512;
const CACHE_ENTRIES = 128;
const TIME_LIMIT_REASON = "inspection exceeded its time limit";

const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { pathToFileURL } = require("node:url");
import(pathToFileURL(workerData.entry).href).catch((error) => { setImmediate(() => { throw error; }); });
`;

const cache = new Map<string, InspectionReport>();

/** Empties the report cache. Effects: module-level cache only. */
export function clearInspectionCache(): void {
  cache.clear();
}

/** Number of cached reports. Pure read of the module-level cache. */
export function inspectionCacheSize(): number {
  return cache.size;
}

function cacheGet(key: string): InspectionReport | undefined {
  const hit = cache.get(key);
  if (hit === undefined) return undefined;
  // Re-insert to mark it most recently used.
  cache.delete(key);
  cache.set(key, hit);
  return structuredClone(hit);
}

function cachePut(key: string, report: InspectionReport): void {
  cache.set(key, structuredClone(report));
  while (cache.size > CACHE_ENTRIES) {
    const oldest = cache.keys().next().value;
    if (oldest === undefined) break;
    cache.delete(oldest);
  }
}

// Bump when a change to the inspector could change a verdict for the same bytes; the allowlist is
// included by content. Reports saved under another epoch are never reused.
const INSPECTOR_REVISION = 2;
let epoch: string | undefined;

/**
 * The report cache, for a persistent cache kept between CLI runs (lib/registry/fast/scan-cache.ts). Entries
 * are keyed by the sha256 of the inspected bytes; `epoch` names the inspector and allowlist that made them.
 */
export const inspectionReports = {
  epoch: (): string => (epoch ??= fingerprint(`${INSPECTOR_REVISION}\n${allowedGlobals().join("\n")}`)),
  entries: (): [string, InspectionReport][] => [...cache.entries()],
  set: (key: string, report: InspectionReport): void => {
    if (looksLikeReport(report)) cachePut(key, report);
  },
};

/**
 * Two 32-bit FNV-1a hashes of a text as 16 hex digits: a cheap name for a version of the allowlist (it
 * tells versions apart; it guards against nothing, and needs no crypto module at start-up).
 */
function fingerprint(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}

/** The worker bundle to load, or null to inspect in-thread. Effects: checks one path exists. */
export function workerBundlePath(): string | null {
  const configured = process.env.REGISTRY_INSPECT_WORKER;
  if (configured) return path.resolve(configured);
  const built = path.resolve(/*turbopackIgnore: true*/ process.cwd(), ".next/inspect-worker.mjs");
  return existsSync(built) ? built : null;
}

let warnedInThread = false;

/** Says once per process that inspections run without their deadline, rather than silently. */
function warnInThread(): void {
  if (warnedInThread) return;
  warnedInThread = true;
  process.emitWarning(
    "No inspection worker bundle (npm run build writes .next/inspect-worker.mjs; or set REGISTRY_INSPECT_WORKER): model files are inspected in-thread, without the time limit.",
    { code: "REGISTRY_NO_INSPECT_WORKER" },
  );
}

function looksLikeReport(value: unknown): value is InspectionReport {
  if (typeof value !== "object" || value === null) return false;
  const report = value as Partial<InspectionReport>;
  return typeof report.verdict === "string" && typeof report.reason === "string" && Array.isArray(report.globals);
}

// The inspector itself loads on the first file that needs inspecting: a command whose reports are all
// cached (a repeated `registry promote --dry-run`) never parses it.
function inspector(): Promise<typeof Inspector> {
  return import("./inspect");
}

function resourceLimits(heapMb: number) {
  return { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: Math.min(64, heapMb), stackSizeMb: 4 };
}

// A worker started ahead of need (see startSpareWorker): idle, it waits for requests by message.
let spare: { worker: Worker; busy: boolean } | null = null;

/**
 * Starts a worker now, so that its start-up overlaps whatever the caller does next. Until used it
 * never keeps the process alive. A large scan hands it half of its file work (askSpareWorker), and the
 * next inspection with default limits runs on it. With `inspects` (the caller will inspect a file), both
 * threads also load the inspector ahead of need, while they would otherwise wait. Effects: one worker
 * thread; no-op without a bundle.
 */
export function startSpareWorker({ inspects = true }: { inspects?: boolean } = {}): void {
  const entry = workerBundlePath();
  if (spare || entry === null) return;
  const worker = new (nodeWorkerThreads().Worker)(WORKER_SOURCE, {
    eval: true,
    workerData: { entry, preloadInspector: inspects },
    resourceLimits: resourceLimits(DEFAULT_HEAP_MB),
    stdout: false,
    stderr: false,
  });
  worker.unref();
  const drop = () => {
    if (spare?.worker === worker) spare = null;
  };
  worker.on("error", drop);
  worker.on("exit", drop);
  spare = { worker, busy: false };
  // This thread needs the inspector's file reading after the scan too: loaded now, it compiles while the
  // scan waits for its folder listings (measured: ~15 ms off a cold run's critical path at 20,000).
  if (inspects) void inspector().catch(() => {});
}

/** True when an idle spare worker is running. */
export function hasSpareWorker(): boolean {
  return spare !== null && !spare.busy;
}

/**
 * Runs a request (see lib/worker/entry.ts) on the idle spare worker and resolves with its answer, or null
 * when there is no idle spare or it fails: the caller then does the work itself.
 */
export function askSpareWorker<T>(request: object, transfer: ArrayBuffer[] = []): Promise<T | null> {
  const s = spare;
  if (!s || s.busy) return Promise.resolve(null);
  s.busy = true;
  s.worker.ref();
  return new Promise((resolve) => {
    const done = (value: T | null) => {
      s.worker.off("message", onMessage);
      s.worker.off("exit", onExit);
      s.busy = false;
      s.worker.unref();
      resolve(value);
    };
    const onMessage = (m: T) => done(m);
    const onExit = () => done(null);
    s.worker.on("message", onMessage);
    s.worker.on("exit", onExit);
    s.worker.postMessage(request, transfer);
  });
}

/** The idle spare worker, handed over for good (the inspection that takes it terminates it). */
function takeSpare(): Worker | null {
  const s = spare;
  if (!s || s.busy) return null;
  spare = null;
  s.worker.ref();
  return s.worker;
}

function runInWorker(
  refusedReport: (typeof Inspector)["refusedReport"],
  entry: string,
  request: InspectRequest,
  timeoutMs: number,
  heapMb: number,
  size: number,
): Promise<{ report: InspectionReport; cacheable: boolean }> {
  return new Promise((resolve) => {
    let settled = false;
    const transfer = request.bytes ? [request.bytes.buffer as ArrayBuffer] : [];
    const warm = heapMb === DEFAULT_HEAP_MB ? takeSpare() : null;
    const worker =
      warm ??
      new (nodeWorkerThreads().Worker)(WORKER_SOURCE, {
        eval: true,
        workerData: { ...request, entry },
        transferList: transfer,
        resourceLimits: resourceLimits(heapMb),
        stdout: false,
        stderr: false,
      });
    if (warm) warm.postMessage(request, transfer);
    const finish = (report: InspectionReport, cacheable: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve({ report, cacheable });
    };
    const timer = setTimeout(() => finish(refusedReport("malformed", TIME_LIMIT_REASON, size), false), timeoutMs);
    worker.on("message", (message: unknown) => {
      if (looksLikeReport(message)) finish(message, true);
      else finish(refusedReport("malformed", "the inspection worker returned an invalid report", size), false);
    });
    worker.on("error", (error: Error & { code?: string }) => {
      const reason =
        error.code === "ERR_WORKER_OUT_OF_MEMORY"
          ? "inspection exceeded its memory limit"
          : `the inspection worker failed (${error.message})`;
      finish(refusedReport("malformed", reason, size), false);
    });
    worker.on("exit", (code) => {
      finish(refusedReport("malformed", `the inspection worker exited (code ${code}) without a report`, size), false);
    });
  });
}

/**
 * Inspects a file off the calling thread. Effects: unless `opts.sha256` names a cached report, reads the
 * file once, hashes it (sha256; the report is cached under the hash of the bytes actually read), and
 * either returns a cached report for that content or spawns a worker thread (heap-limited, killed
 * after timeoutMs, which yields verdict "malformed"). Never rejects.
 */
export async function inspectFileIsolated(filePath: string, opts: IsolatedOptions = {}): Promise<InspectionReport> {
  const limits = resolveLimits(opts.limits);
  const policy = opts.policy;
  const keyOf = (sha256: string) => `${sha256}:${JSON.stringify(limits)}${policyFingerprint(policy)}`;
  const known = opts.sha256 ? cacheGet(keyOf(opts.sha256)) : undefined;
  if (known) return known;
  const { inspectBytes, readFileForInspection, refusedReport } = await inspector();
  const read = await readFileForInspection(filePath, limits);
  if (!read.ok) return read.report;
  const bytes = read.bytes;
  const key = keyOf(nodeCrypto().createHash("sha256").update(bytes).digest("hex"));
  const cached = cacheGet(key);
  if (cached) return cached;

  const entry = workerBundlePath();
  if (entry === null) {
    warnInThread();
    const report = inspectBytes(bytes, limits, policy);
    cachePut(key, report);
    return report;
  }
  // The same content asked for again while its worker runs (a page of identical files) waits for that one.
  const running = inFlight.get(key);
  if (running) return structuredClone(await running);
  const job = limited(() =>
    runInWorker(
      refusedReport,
      entry,
      { kind: "registry-inspect", path: filePath, limits, bytes, policy },
      opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      opts.maxOldGenerationSizeMb ?? DEFAULT_HEAP_MB,
      bytes.byteLength,
    ),
  ).then(({ report, cacheable }) => {
    // Deadlines and crashes depend on machine load, not on the content: do not remember them.
    if (cacheable) cachePut(key, report);
    return report;
  });
  inFlight.set(key, job);
  try {
    return await job;
  } finally {
    inFlight.delete(key);
  }
}

const inFlight = new Map<string, Promise<InspectionReport>>();

// At most this many workers at once: a page of fifty new files must not start fifty isolates.
const MAX_WORKERS = 2;
let active = 0;
const waiting: (() => void)[] = [];

async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (active >= MAX_WORKERS) await new Promise<void>((r) => waiting.push(r));
  active++;
  try {
    return await fn();
  } finally {
    active--;
    waiting.shift()?.();
  }
}
