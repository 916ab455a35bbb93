import { join } from "node:path";
// Narrow imports: the inspector proper loads only when a file has to be inspected (see run-isolated.ts).
import { inspectFileIsolated } from "@/lib/inspect/run-isolated";
import { compareSchemas } from "@/lib/inspect/schema";
import type { InspectionReport } from "@/lib/inspect/types";
import type { SafetyEvidence } from "./checks";
import { type ChangeRequest, type Plan, planChange, readArtifactEvidence, resolveTarget } from "./plan";
import { loadDeferredMetrics, loadDeferredModels, MODEL_ALIAS, type Snapshot, scanRegistry, type Version } from "./scan";

/**
 * Reads the registry and plans a promotion or rollback against what is on disk now: scans (reading every
 * metrics file but only the candidate's and production's model files), reads the candidate's first bytes, and inspects the candidate and production model files statically (never
 * unpickling them). Reads only. Throws typed errors for an unknown version or nothing to promote.
 */
export async function planFromDisk(root: string, request: ChangeRequest): Promise<{ snapshot: Snapshot; plan: Plan }> {
  const snapshot = await scanRegistry(root, { models: "deferred", metrics: "scores" });
  const target = resolveTarget(snapshot, request);
  const production = snapshot.versions.find((v) => v.stem === snapshot.production.stem) ?? null;
  loadDeferredModels(root, [target, production]);
  loadDeferredMetrics(root, [target, production]);
  const [artifact, safety] = await Promise.all([readArtifactEvidence(root, target), safetyEvidence(root, target, snapshot, production)]);
  const plan = planChange(snapshot, { ...request, version: target.stem }, { artifact, safety });
  return { snapshot, plan };
}

/** The static inspector's verdict on the candidate and the feature-schema comparison with production. */
export async function safetyEvidence(
  root: string,
  target: Version,
  snapshot: Snapshot,
  production: Version | null,
): Promise<SafetyEvidence> {
  // Production's schema comes from the alias bytes themselves when they match no known version.
  const productionFile = production ? production.modelFile : snapshot.production.sha256 ? MODEL_ALIAS : null;
  const [candidate, live] = await Promise.all([
    inspectFileIsolated(join(root, target.modelFile), { sha256: target.sha256 }),
    productionFile
      ? inspectFileIsolated(join(root, productionFile), { sha256: snapshot.production.sha256 ?? undefined })
      : Promise.resolve(null),
  ]);
  const liveSchema = live && live.verdict !== "unsupported" ? live.schema : null;
  return {
    candidate: {
      verdict: candidate.verdict,
      reason: candidate.reason,
      unsafeGlobals: unsafeGlobals(candidate),
      catCols: candidate.schema.catCols,
      numCols: candidate.schema.numCols,
    },
    production: liveSchema ? { catCols: liveSchema.catCols, numCols: liveSchema.numCols } : null,
    schemaMatch: liveSchema && (liveSchema.catCols || liveSchema.numCols) ? compareSchemas(candidate.schema, liveSchema) : null,
  };
}

function unsafeGlobals(report: InspectionReport): string[] {
  return report.globals.filter((g) => g.status !== "allowed").map((g) => `${g.module}.${g.name} (${g.status})`);
}
