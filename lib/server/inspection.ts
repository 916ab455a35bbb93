import "server-only";
import { join } from "node:path";
import { type InspectionReport, inspectFileIsolated } from "@/lib/inspect";
import type { Version } from "@/lib/registry";

/**
 * Static inspection reports for the given versions' model files: off the request thread in a bounded
 * worker, cached by content hash, so a hostile file can neither crash nor stall the server.
 */
export async function inspectVersions(root: string, versions: readonly Version[]): Promise<Map<string, InspectionReport>> {
  const reports = await Promise.all(versions.map((v) => inspectFileIsolated(join(root, v.modelFile), { sha256: v.sha256 })));
  return new Map(versions.map((v, i) => [v.stem, reports[i] as InspectionReport]));
}
