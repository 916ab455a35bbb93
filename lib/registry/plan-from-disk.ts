import { join } from "node:path";
// Narrow imports: the inspector proper loads only when a file has to be inspected (see run-isolated.ts).
import { inspectFileIsolated } from "@/lib/inspect/run-isolated";
import { type LoadCheckPolicy, runLoadCheck, warmLoadCheck } from "@/lib/load-check";
import { compareSchemas } from "@/lib/inspect/schema";
import type { InspectionPolicy, InspectionReport } from "@/lib/inspect/types";
import type { SafetyEvidence } from "./checks";
import { MAX_METRICS_BYTES, readSmallFileSync } from "./files";
import type { LiveHistorySource } from "./live-history";
import { metricsFileOf } from "./names";
import { type ChangeRequest, type Plan, type PlanSubjects, planChange, readArtifactEvidence, resolveTarget } from "./plan";
import { type LoadedVersion, loadVersion, MODEL_ALIAS, type RegistryView, scanForPlan, type Version } from "./scan";

/**
 * Reads the registry and plans a promotion or rollback against what is on disk now: scans (reading every
 * metrics file but only the candidate's and production's model files), reads the candidate's first bytes, and inspects the candidate and production model files statically (never
 * unpickling them) with the registry's trust list `policy`; for a rollback, asks `history` (the audit log)
 * whether the target's bytes were live; loads a candidate the inspector judged safe in a sandbox (lib/load-check),
 * remembering the answer under .registry/load-checks, as the registry's `loadCheckPolicy` says. Both policies
 * are required: a caller that forgot the trust list would plan against a different rule than the pages
 * (the HTTP API once did). Reads the registry only. Throws typed errors for an unknown version or nothing to promote.
 */
export async function planFromDisk(
  root: string,
  request: ChangeRequest,
  history: LiveHistorySource | undefined,
  policy: InspectionPolicy,
  loadCheckPolicy: LoadCheckPolicy,
): Promise<{ registry: RegistryView; plan: Plan } & PlanSubjects> {
  // The serving Python is asked for its facts while the registry is scanned (a new interpreter: ~0.3 s).
  warmLoadCheck(root, loadCheckPolicy);
  const registry = await scanForPlan(root);
  const subjects = loadSubjects(root, registry, request);
  const { target, production } = subjects;
  if (request.kind === "rollback" && !history) throw new Error("planFromDisk: a rollback needs the audit log's history");
  const [artifact, safety, liveRecord] = await Promise.all([
    readArtifactEvidence(root, target),
    safetyEvidence(root, target, registry, production, policy),
    request.kind === "rollback" ? history?.liveRecord(target.sha256) : undefined,
  ]);
  // Defence in depth: only bytes the static inspector judged safe are ever loaded, and only in the sandbox.
  const loadCheck = await runLoadCheck(
    root,
    { file: target.modelFile, sha256: target.sha256, stem: target.stem },
    safety.candidate.verdict,
    loadCheckPolicy,
  );
  const plan = planChange(registry, subjects, { ...request, version: target.stem }, { artifact, safety, liveRecord, loadCheck });
  return { registry, plan, ...subjects };
}

/**
 * The candidate a request names (or the best) and production's version, each read whole (see loadVersion):
 * new objects. Throws typed errors for an unknown version or nothing to promote, SourceChangedError for a
 * model file gone since the scan.
 */
export function loadSubjects(root: string, registry: RegistryView, request: Pick<ChangeRequest, "kind" | "version">): PlanSubjects {
  const target = loadVersion(root, resolveTarget(registry, request));
  const stem = registry.production.stem;
  const production = stem === null ? undefined : registry.version(stem);
  return { target, production: production ? loadVersion(root, production) : null };
}

/** The static inspector's verdict on the candidate and the feature-schema comparison with production. */
export async function safetyEvidence(
  root: string,
  target: LoadedVersion,
  registry: Pick<RegistryView, "production">,
  production: LoadedVersion | null,
  policy?: InspectionPolicy,
): Promise<SafetyEvidence> {
  // Production's schema comes from the alias bytes themselves when they match no known version.
  const productionFile = production ? production.modelFile : registry.production.sha256 ? MODEL_ALIAS : null;
  const [candidate, live] = await Promise.all([
    inspectFileIsolated(join(root, target.modelFile), { sha256: target.sha256, policy }),
    productionFile
      ? inspectFileIsolated(join(root, productionFile), { sha256: registry.production.sha256 ?? undefined, policy })
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
  return report.globals.filter((g) => g.status !== "allowed" && g.status !== "trusted").map((g) => `${g.module}.${g.name} (${g.status})`);
}

/**
 * The bytes of a listed version's metrics file, for download: the file of the version's own name inside
 * `root` (never a path from a request), opened without following links, a regular file only, capped like
 * every metrics read. Null when the version has no metrics file or it is no longer such a file. Reads only.
 */
export function readMetricsBytes(root: string, version: Pick<Version, "stem" | "metricsFile">): Buffer | null {
  if (version.metricsFile !== metricsFileOf(version.stem)) return null;
  try {
    return readSmallFileSync(join(root, version.metricsFile), MAX_METRICS_BYTES).bytes;
  } catch {
    return null;
  }
}
