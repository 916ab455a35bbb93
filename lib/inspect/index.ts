// Static inspector for joblib/pickle model files: reads the bytes, never unpickles.
export { allowedGlobals, classifyGlobal, isLegacyWrapperGlobal, RENAMES, reviewedCallables, spellingsOf } from "./allowlist";
export { GENERATED_PROVENANCE } from "./allowlist-generated";
export { decompress, detectContainer } from "./containers";
export { inspectBytes, inspectFile } from "./inspect";
export {
  clearInspectionCache,
  type IsolatedOptions,
  inspectFileIsolated,
  inspectionCacheSize,
  inspectionReports,
  policyFingerprint,
  workerBundlePath,
} from "./run-isolated";
export { compareSchemas, extractSchema } from "./schema";
export {
  type ContainerKind,
  DEFAULT_LIMITS,
  type FeatureSchema,
  type GlobalStatus,
  type InspectionPolicy,
  type InspectionReport,
  type InspectionStats,
  type InspectLimits,
  type PickleGlobal,
  type TrustedGlobal,
  resolveLimits,
  type Verdict,
} from "./types";
