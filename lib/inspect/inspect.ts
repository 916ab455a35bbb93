import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { isLegacyWrapperGlobal } from "./allowlist";
import { decompress, detectContainer, isNpyFile } from "./containers";
import { isZip, scanNpy, scanTrailingPickles, scanZip } from "./foreign";
import { type MachineShared, newShared, PickleError, PickleMachine } from "./pickle-machine";
import { emptySchema, extractSchema } from "./schema";
import {
  type ContainerKind,
  type FeatureSchema,
  InspectFailure,
  type InspectionPolicy,
  type InspectionReport,
  type InspectLimits,
  type PickleGlobal,
  resolveLimits,
  type TrustedGlobal,
  type Verdict,
} from "./types";

interface Outcome {
  container: ContainerKind;
  decompressedSize: number | null;
  protocol: number | null;
  schema: FeatureSchema;
  shared: MachineShared | null;
  /** Why parsing stopped, or null when it reached STOP cleanly. */
  failure: Failure | null;
}

interface Failure {
  verdict: "malformed" | "unsupported";
  /** The reason on its own, e.g. "Malformed pickle: BINGET at byte 2: memo key 5 is undefined". */
  summary: string;
  /** The same without its lead-in, for combining with an unsafe import. */
  detail: string;
}

function failure(verdict: Failure["verdict"], detail: string, leadIn = ""): Failure {
  return { verdict, summary: leadIn ? `${leadIn}: ${detail}` : detail, detail };
}

function sortedGlobals(shared: MachineShared | null): PickleGlobal[] {
  if (!shared) return [];
  return [...shared.globals.values()]
    .map((g) => ({ ...g }))
    .sort((a, b) => (a.module === b.module ? cmp(a.name, b.name) : cmp(a.module, b.module)));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function listNames(globals: PickleGlobal[]): string {
  const names = globals.map((g) => `${g.module}.${g.name}`);
  return names.length > 5 ? `${names.slice(0, 5).join(", ")} and ${names.length - 5} more` : names.join(", ");
}

function sentence(text: string): string {
  const trimmed = text.trim();
  const capitalised = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

/** Verdict precedence: non-allowlisted imports, then parse failures, then legacy layouts, then safe. */
function judge(outcome: Outcome, globals: PickleGlobal[]): { verdict: Verdict; reason: string } {
  const dangerous = globals.filter((g) => g.status === "dangerous");
  const unknown = globals.filter((g) => g.status === "unknown" && !isLegacyWrapperGlobal(g.module, g.name));
  const legacy = globals.some((g) => isLegacyWrapperGlobal(g.module, g.name)) || outcome.shared?.legacy === true;
  const broken = outcome.failure ? `, and the file is ${outcome.failure.verdict}: ${outcome.failure.detail}` : "";
  if (dangerous.length > 0) {
    const what = dangerous.length === 1 ? "a dangerous global" : plural(dangerous.length, "dangerous global");
    return { verdict: "unsafe", reason: sentence(`Imports ${what}: ${listNames(dangerous)}${broken}`) };
  }
  if (unknown.length > 0) {
    const what = plural(unknown.length, "global");
    return { verdict: "unsafe", reason: sentence(`Imports ${what} not on the allowlist: ${listNames(unknown)}${broken}`) };
  }
  if (outcome.failure) return { verdict: outcome.failure.verdict, reason: sentence(outcome.failure.summary) };
  if (legacy) {
    return {
      verdict: "unsupported",
      reason: "Written by joblib older than 0.10: the arrays live in companion files this inspector does not read.",
    };
  }
  if (globals.length === 0) return { verdict: "safe", reason: "The pickle imports no globals." };
  const trusted = globals.filter((g) => g.status === "trusted").length;
  const all = globals.length === 1 ? "The only imported global is" : `All ${globals.length} imported globals are`;
  if (trusted === 0) return { verdict: "safe", reason: `${all} on the allowlist.` };
  const policy = trusted === globals.length ? "trusted by registry policy" : `on the allowlist or trusted by registry policy (${trusted})`;
  return { verdict: "safe", reason: `${all} ${policy}.` };
}

/** The trust list as the machine looks it up. Pure. */
function trustMap(policy: InspectionPolicy | undefined): Map<string, TrustedGlobal> {
  return new Map((policy?.trusted ?? []).map((t) => [`${t.module}.${t.name}`, t]));
}

/** A zip archive or .npy file: refused as unsupported, naming what its pickles import. */
function analyseForeign(bytes: Uint8Array, limits: InspectLimits, outcome: Outcome, policy?: InspectionPolicy): Outcome {
  const shared = newShared(limits, trustMap(policy));
  outcome.shared = shared;
  const zip = isZip(bytes);
  outcome.container = zip ? "zip" : "npy";
  const found = zip ? scanZip(bytes, shared) : scanNpy(bytes, shared);
  const globals = sortedGlobals(shared);
  const imports =
    found.pickles === 0
      ? ""
      : globals.length === 0
        ? "; it imports no globals"
        : `; it imports ${plural(globals.length, "global")}: ${listNames(globals)}`;
  const broken = found.problem ? `; a pickle in it is malformed (${found.problem})` : "";
  outcome.failure = failure("unsupported", `${found.what}, not a joblib file${imports}${broken}`);
  return outcome;
}

function analyse(bytes: Uint8Array, limits: InspectLimits, policy?: InspectionPolicy): Outcome {
  const container = detectContainer(bytes);
  const outcome: Outcome = { container, decompressedSize: null, protocol: null, schema: emptySchema(), shared: null, failure: null };
  if (bytes.length === 0) {
    outcome.failure = failure("malformed", "the file is empty");
    return outcome;
  }
  if (container === "legacy-zf") {
    outcome.failure = failure("unsupported", "legacy joblib (< 0.10) ZF container; its arrays live in companion files");
    return outcome;
  }
  if (isZip(bytes) || isNpyFile(bytes)) return analyseForeign(bytes, limits, outcome, policy);
  if (container === "unknown") {
    outcome.failure = failure("malformed", "not a joblib file: the first byte is neither a known container magic nor a pickle opcode");
    return outcome;
  }
  let data: Uint8Array;
  try {
    data = decompress(bytes, container, limits);
  } catch (error) {
    if (!(error instanceof InspectFailure)) throw error;
    outcome.failure = failure(error.verdict, error.message);
    return outcome;
  }
  outcome.decompressedSize = data.length;
  const shared = newShared(limits, trustMap(policy));
  outcome.shared = shared;
  // A plain Uint8Array view: Buffer.subarray is markedly slower on the hot path.
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const machine = new PickleMachine(view, 0, shared, true);
  try {
    const result = machine.run();
    outcome.protocol = result.protocol;
    if (result.end !== data.length) {
      // pickle.load stops here, but a file may carry more pickles: name what they import too.
      const more =
        scanTrailingPickles(view, result.end, shared) > 0 && shared.globals.size > 0 ? " (read as more pickles for their imports)" : "";
      throw new PickleError(`${data.length - result.end} trailing bytes after STOP at byte ${result.end - 1}${more}`, result.end);
    }
    outcome.schema = extractSchema(result.root);
  } catch (error) {
    if (!(error instanceof PickleError)) throw error;
    outcome.protocol = machine.firstProto >= 0 ? machine.firstProto : null;
    outcome.failure = failure(
      "malformed",
      error.message,
      container === "none" ? "Malformed pickle" : "Malformed pickle (offsets are in the decompressed stream)",
    );
  }
  return outcome;
}

/**
 * Inspects the bytes of a .joblib file without unpickling anything. Pure and synchronous; never
 * throws (internal faults become a "malformed" report, which is never treated as safe). `policy` is the
 * registry's trust list: exact pairs it lifts from "unknown" to "trusted" (never a dangerous one).
 */
export function inspectBytes(bytes: Uint8Array, limits?: Partial<InspectLimits>, policy?: InspectionPolicy): InspectionReport {
  const started = performance.now();
  const resolved = resolveLimits(limits);
  let outcome: Outcome;
  try {
    outcome = analyse(bytes, resolved, policy);
  } catch (error) {
    // Fail closed on anything unforeseen (e.g. an engine RangeError): report, never crash the caller.
    outcome = {
      container: "unknown",
      decompressedSize: null,
      protocol: null,
      schema: emptySchema(),
      shared: null,
      failure: failure("malformed", `inspection failed internally (${(error as Error)?.message ?? String(error)})`),
    };
  }
  const globals = sortedGlobals(outcome.shared);
  const { verdict, reason } = judge(outcome, globals);
  return {
    verdict,
    reason,
    container: outcome.container,
    protocol: outcome.protocol,
    compressedSize: bytes.length,
    decompressedSize: outcome.decompressedSize,
    globals,
    schema: outcome.schema,
    stats: {
      opcodes: outcome.shared?.opcodes ?? 0,
      numpyArrays: outcome.shared?.numpyArrays ?? 0,
      nestedPickles: outcome.shared?.nestedPickles ?? 0,
      elapsedMs: Math.round((performance.now() - started) * 1000) / 1000,
    },
  };
}

/** A report for a file that was refused before parsing. Pure. */
export function refusedReport(verdict: Verdict, reason: string, size: number): InspectionReport {
  return {
    verdict,
    reason: sentence(reason),
    container: "unknown",
    protocol: null,
    compressedSize: size,
    decompressedSize: null,
    globals: [],
    schema: emptySchema(),
    stats: { opcodes: 0, numpyArrays: 0, nestedPickles: 0, elapsedMs: 0 },
  };
}

function describeFileType(stat: {
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
  isDirectory(): boolean;
}): string {
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  if (stat.isSocket()) return "a socket";
  if (stat.isDirectory()) return "a directory";
  return "not a regular file";
}

/**
 * Reads a file for inspection through a single file descriptor. Effects: opens `path` read-only and
 * non-blocking (so a FIFO cannot hang us) and reads it. Refuses non-regular files and files above
 * maxFileBytes with verdict "unsupported" before reading their content.
 */
export async function readFileForInspection(
  path: string,
  limits: InspectLimits,
): Promise<{ ok: true; bytes: Uint8Array } | { ok: false; report: InspectionReport }> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return {
      ok: false,
      report: refusedReport("malformed", `Cannot open the file (${(error as NodeJS.ErrnoException).code ?? "error"})`, 0),
    };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      return { ok: false, report: refusedReport("unsupported", `Refused: the path is ${describeFileType(stat)}, not a regular file`, 0) };
    }
    if (stat.size > limits.maxFileBytes) {
      return {
        ok: false,
        report: refusedReport(
          "unsupported",
          `Refused: the file is ${stat.size} bytes, above the ${limits.maxFileBytes}-byte inspection limit`,
          stat.size,
        ),
      };
    }
    // Read at most one byte past the limit so a file growing under us is still refused.
    const buffer = new Uint8Array(Math.min(stat.size, limits.maxFileBytes) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) break;
    }
    if (length > limits.maxFileBytes) {
      return {
        ok: false,
        report: refusedReport("unsupported", `Refused: the file grew above the ${limits.maxFileBytes}-byte inspection limit`, length),
      };
    }
    return { ok: true, bytes: buffer.subarray(0, length) };
  } catch (error) {
    return {
      ok: false,
      report: refusedReport("malformed", `Cannot read the file (${(error as NodeJS.ErrnoException).code ?? "error"})`, 0),
    };
  } finally {
    await handle.close();
  }
}

/**
 * Inspects a .joblib file on disk. Effects: reads the file (see readFileForInspection); the
 * inspection itself runs on the calling thread. Never rejects.
 */
export async function inspectFile(path: string, limits?: Partial<InspectLimits>, policy?: InspectionPolicy): Promise<InspectionReport> {
  const resolved = resolveLimits(limits);
  const read = await readFileForInspection(path, resolved);
  if (!read.ok) return read.report;
  return inspectBytes(read.bytes, resolved, policy);
}
