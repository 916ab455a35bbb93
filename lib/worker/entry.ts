// The worker thread's entry point: one worker for the whole project, so neither the inspector nor the
// registry imports the other through it. It is bundled with esbuild (cli/dist/inspect-worker.mjs by the CLI
// build, .next/inspect-worker.mjs by the web build) and loaded inside a worker thread by
// lib/inspect/run-isolated.ts. When loaded in a worker whose workerData is an inspect request it runs once
// and posts the report back; a spare worker (no request in workerData) answers requests by message
// instead: inspections, and the file work a cold registry scan shares (lib/registry/fast/shared-reads.ts).
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { packedBuffers, readSharedMetricsFiles } from "@/lib/registry/fast/shared-reads";
import type { InspectionPolicy, InspectionReport } from "@/lib/inspect/types";
import { metricsFileOf } from "@/lib/registry/names";
import { type InspectRequest, isInspectRequest, type ReadMetricsRequest } from "./protocol";

/**
 * Runs one inspect request. Effects: reads `request.path` when no bytes are supplied.
 */
export async function runInspectRequest(request: InspectRequest): Promise<InspectionReport> {
  // Loaded on demand: a spare worker that only reads metrics files starts without the inspector.
  const { inspectBytes, inspectFile } = await import("@/lib/inspect/inspect");
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
        if (workerData?.preloadInspector) void import("@/lib/inspect/inspect").catch(() => {});
      } else if (isInspectRequest(m)) {
        void runInspectRequest(m).then((report) => port.postMessage(report));
      }
    });
  }
}
