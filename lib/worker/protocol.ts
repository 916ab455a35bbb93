// What the worker thread (entry.ts) answers: the messages both its users send it. Types and one pure
// guard only, so the inspector's pool and the registry's scan can name them without importing each other.
import type { InspectionPolicy, InspectLimits } from "@/lib/inspect/types";
import type { MetricsDetail } from "@/lib/registry/types";

export interface InspectRequest {
  kind: "registry-inspect";
  path: string;
  limits?: Partial<InspectLimits>;
  /** The file content already read (and hashed) by the caller; avoids reading a changed file twice. */
  bytes?: Uint8Array;
  /** The registry's trust list, as data. */
  policy?: InspectionPolicy;
}

/**
 * Read and parse the metrics files of a registry's versions, sharing them with the asking thread (see
 * readSharedMetricsFiles); answered with the reads, packed (see PackedReads).
 */
export interface ReadMetricsRequest {
  kind: "registry-read-metrics";
  root: string;
  /** The listed versions' stems, "\0"-joined ("" for a version without a metrics file). */
  stems: string;
  detail: MetricsDetail;
  /** One claim flag per version. */
  claims: SharedArrayBuffer;
}

/** True when `data` is an inspect request. Pure. */
export function isInspectRequest(data: unknown): data is InspectRequest {
  if (typeof data !== "object" || data === null) return false;
  const request = data as Partial<InspectRequest>;
  return request.kind === "registry-inspect" && typeof request.path === "string";
}

