import "server-only";
import { join } from "node:path";
import { type InspectionReport, inspectFileIsolated } from "@/lib/inspect";
import type { ModelFacts, Version } from "@/lib/registry";
import { trustPolicy } from "@/lib/trust/trust-list";
import { db } from "./session";

/**
 * Static inspection reports for the given versions' model files: off the request thread in a bounded
 * worker, cached by content hash and the trust list's content, so a hostile file can neither crash nor
 * stall the server, and a pair taken off the trust list counts at once. Reads the trust list.
 */
export async function inspectVersions(root: string, versions: readonly (Version & Partial<ModelFacts>)[]): Promise<Map<string, InspectionReport>> {
  const policy = await trustPolicy(db());
  const reports = await Promise.all(versions.map((v) => inspectFileIsolated(join(root, v.modelFile), { sha256: v.sha256 || undefined, policy })));
  return new Map(versions.map((v, i) => [v.stem, reports[i] as InspectionReport]));
}
