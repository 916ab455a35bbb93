// Entry point of the inspection worker. It is bundled (by the CLI build, with esbuild) to
// cli/dist/inspect-worker.mjs and loaded inside a worker thread by run-isolated.ts; when loaded in a
// worker whose workerData is an inspect request it runs once and posts the report back.
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { inspectBytes, inspectFile } from "./inspect";
import type { InspectionReport, InspectLimits } from "./types";

export interface InspectRequest {
  kind: "registry-inspect";
  path: string;
  limits?: Partial<InspectLimits>;
  /** The file content already read (and hashed) by the caller; avoids reading a changed file twice. */
  bytes?: Uint8Array;
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
  if (request.bytes instanceof Uint8Array) return inspectBytes(request.bytes, request.limits);
  return inspectFile(request.path, request.limits);
}

if (!isMainThread && parentPort && isInspectRequest(workerData)) {
  const port = parentPort;
  void runInspectRequest(workerData).then((report) => port.postMessage(report));
}
