// Entry point of the inspection worker. It is bundled (by the CLI build, with esbuild) to
// cli/dist/inspect-worker.mjs and loaded inside a worker thread by run-isolated.ts. When loaded in a
// worker whose workerData is an inspect request it runs once and posts the report back; a spare worker
// (no request in workerData) answers requests by message instead: inspections, and the file work a
// cold registry scan shares (lib/registry/batch.ts).
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { packedBuffers, readSharedMetricsFiles } from "@/lib/registry/batch";
import { metricsFileOf } from "@/lib/registry/names";
import type { MetricsDetail } from "@/lib/registry/scan";
import type { InspectionPolicy, InspectionReport, InspectLimits } from "./types";

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

/**
 * Runs one inspect request. Effects: reads `request.path` when no bytes are supplied.
 */
export async function runInspectRequest(request: InspectRequest): Promise<InspectionReport> {
  // Loaded on demand: a spare worker that only reads metrics files starts without the inspector.
  const { inspectBytes, inspectFile } = await import("./inspect");
  const policy = validPolicy(request.policy);
  if (request.bytes instanceof Uint8Array) return inspectBytes(request.bytes, request.limits, policy);
  return inspectFile(request.path, request.limits, policy);
}

/** A structurally valid trust list from a message, else none (a malformed one trusts nothing). Pure. */
function validPolicy(policy: unknown): InspectionPolicy | undefined {
  const trusted = (policy as InspectionPolicy | undefined)?.trusted;
  if (!Array.isArray(trusted)) return undefined;
  const ok = trusted.every((t) =>
    ["module", "name", "by", "at"].every((k) => typeof (t as unknown as Record<string, unknown>)?.[k] === "string"),
  );
  return ok ? { trusted } : undefined;
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  if (isInspectRequest(workerData)) {
    void runInspectRequest(workerData).then((report) => port.postMessage(report));
  } else {
    port.on("message", (m: InspectRequest | ReadMetricsRequest) => {
      if (m.kind === "registry-read-metrics") {
        const files = m.stems.split("\0").map((stem) => (stem ? metricsFileOf(stem) : ""));
        const packed = readSharedMetricsFiles(m.root, files, m.detail, new Uint8Array(m.claims));
        port.postMessage(packed, packedBuffers(packed));
        // An inspection comes next (a plan's candidate): load the inspector while the scan merges these reads.
        if (workerData?.preloadInspector) void import("./inspect").catch(() => {});
      } else if (isInspectRequest(m)) {
        void runInspectRequest(m).then((report) => port.postMessage(report));
      }
    });
  }
}
