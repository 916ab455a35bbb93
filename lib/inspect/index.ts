// Static inspector for joblib/pickle model files: reads the bytes, never unpickles.
export { allowedGlobals, classifyGlobal, isLegacyWrapperGlobal } from "./allowlist";
export { decompress, detectContainer } from "./containers";
export { inspectBytes, inspectFile } from "./inspect";
export {
  clearInspectionCache,
  type IsolatedOptions,
  inspectFileIsolated,
  inspectionCacheSize,
  inspectionReports,
  workerBundlePath,
} from "./run-isolated";
export { compareSchemas, extractSchema } from "./schema";
export {
  type ContainerKind,
  DEFAULT_LIMITS,
  type FeatureSchema,
  type GlobalStatus,
  type InspectionReport,
  type InspectionStats,
  type InspectLimits,
  type PickleGlobal,
  resolveLimits,
  type Verdict,
} from "./types";
