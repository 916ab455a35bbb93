/** What the inspector concluded about a file. */
export type Verdict = "safe" | "unsafe" | "malformed" | "unsupported";

/**
 * How one imported global is judged: on the built-in allowlist, trusted by the registry's own policy (an
 * admin's exact module.name), known to run code (never trusted by anyone), or none of these.
 */
export type GlobalStatus = "allowed" | "trusted" | "unknown" | "dangerous";

/** One exact module.name pair an admin trusts, as the inspector receives it (data, not a database). */
export interface TrustedGlobal {
  module: string;
  name: string;
  /** Who added it, and when (ISO 8601). */
  by: string;
  at: string;
}

/** What the registry's policy adds to the built-in rules: its trust list. */
export interface InspectionPolicy {
  trusted: readonly TrustedGlobal[];
}

/**
 * A (module, name) pair the pickle imports, as written in the stream (what pickletools shows).
 * Its status judges what Python would really import: for protocol < 3 streams pickle first applies
 * its Python 2 -> 3 renames (e.g. "__builtin__" -> "builtins", "commands" -> "subprocess").
 */
export interface PickleGlobal {
  module: string;
  name: string;
  status: GlobalStatus;
  /** Seen in a nested object-array pickle (joblib writes those with plain pickle.dump). */
  nested: boolean;
  /** Set when status is "trusted": whose trust-list entry allowed it. */
  trust?: { by: string; at: string };
}

/** The feature contract the saved payload declares, read without executing it. */
export interface FeatureSchema {
  keys: string[] | null;
  catCols: string[] | null;
  numCols: string[] | null;
  /** Full class path of the "model" value, e.g. "sklearn.pipeline.Pipeline". */
  modelClass: string | null;
  /** Class path of the last pipeline step, or of the model itself when it is not a Pipeline. */
  finalEstimator: string | null;
  pipelineSteps: string[] | null;
}

export type ContainerKind = "none" | "zlib" | "gzip" | "bz2" | "lzma" | "xz" | "lz4" | "legacy-zf" | "zip" | "npy" | "unknown";

export interface InspectionStats {
  opcodes: number;
  numpyArrays: number;
  nestedPickles: number;
  elapsedMs: number;
}

export interface InspectionReport {
  verdict: Verdict;
  /** One plain sentence, always set. */
  reason: string;
  container: ContainerKind;
  protocol: number | null;
  compressedSize: number;
  decompressedSize: number | null;
  /** Unique, sorted by module then name. */
  globals: PickleGlobal[];
  schema: FeatureSchema;
  stats: InspectionStats;
}

/** Resource limits; every one of them turns into a "malformed" verdict when hit, never a crash. */
export interface InspectLimits {
  /** inspectFile refuses (verdict "unsupported") files larger than this before reading them. */
  maxFileBytes: number;
  /** Hard cap on the decompressed stream. */
  maxDecompressedBytes: number;
  /** Decompressed/compressed ratio cap, applied once the output passes ratioFloorBytes. */
  maxCompressionRatio: number;
  ratioFloorBytes: number;
  /** Opcodes executed, nested pickles included. */
  maxOpcodes: number;
  maxMemoEntries: number;
  /** Items on the symbolic stack plus open MARKs. */
  maxStackDepth: number;
  /** Total bytes of string/bytes arguments. */
  maxStringBytes: number;
}

const MIB = 1024 * 1024;

export const DEFAULT_LIMITS: Readonly<InspectLimits> = Object.freeze({
  maxFileBytes: 512 * MIB,
  maxDecompressedBytes: 512 * MIB,
  maxCompressionRatio: 200,
  ratioFloorBytes: 1 * MIB,
  maxOpcodes: 20_000_000,
  maxMemoEntries: 2_000_000,
  maxStackDepth: 1_000_000,
  maxStringBytes: 256 * MIB,
});

/**
 * Fills in defaults for missing or nonsensical limit values. Pure.
 */
export function resolveLimits(partial?: Partial<InspectLimits>): InspectLimits {
  const out: InspectLimits = { ...DEFAULT_LIMITS };
  if (!partial) return out;
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof InspectLimits)[]) {
    const value = partial[key];
    // Untrusted callers (e.g. a worker message) may pass anything: keep the default unless it is a sane number.
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) out[key] = value;
  }
  return out;
}

/** Raised inside the inspector; converted to a report at the public boundary. */
export class InspectFailure extends Error {
  constructor(
    message: string,
    readonly verdict: "malformed" | "unsupported" = "malformed",
  ) {
    super(message);
    this.name = "InspectFailure";
  }
}
