import type { LoadedVersion, ModelFacts, Plan, Snapshot, Version } from "@/lib/registry";
import { periodFacts } from "@/lib/registry/live-history";

// The JSON the CLI prints for `list`, `promote` and `rollback`, built in one place so the HTTP API answers
// with the very same objects (a pipeline can switch between the two without changing its parsing).

/** What `rollback --previous` resolved to, and why. */
export interface Previous {
  stem: string;
  sha256: string | null;
  explanation: string;
}

export interface Submitted {
  status: string;
  emergency: boolean;
  request: { id: number; expiresAt: string } | null;
}

/** The object `registry promote|rollback --json` prints. Pure. */
export function releaseJson(
  plan: Plan,
  r: { dryRun: boolean; done: boolean; correlationId: string; previous: Previous | null },
  submitted?: Submitted,
) {
  const request = submitted?.status === "requested" ? submitted.request : null;
  return {
    promoted: plan.kind === "promote" && r.done,
    ...(plan.kind === "rollback" ? { rolledBack: r.done } : {}),
    kind: plan.kind,
    from: plan.current.stem,
    to: plan.target.stem,
    metric: plan.target.metric,
    score: plan.target.score,
    checks: plan.checks.map((c) => ({ name: c.name, passed: c.passed, detail: c.detail, overridden: c.overridden, skipped: c.skipped })),
    dryRun: r.dryRun,
    noop: plan.noop,
    refused: !plan.allowed,
    refusal: plan.refusal,
    refusalCode: plan.refusalCode,
    files: plan.files,
    auditCorrelationId: r.dryRun ? null : r.correlationId,
    requested: request !== null,
    ...(request ? { requestId: request.id, expiresAt: request.expiresAt } : {}),
    ...(submitted?.emergency ? { emergency: true } : {}),
    ...(plan.rollback
      ? {
          rollback: {
            legitimate: plan.rollback.legitimate,
            finding: plan.rollback.code,
            explanation: plan.rollback.explanation,
            timesLive: plan.rollback.total,
            periods: plan.rollback.periods.map(periodFacts),
          },
        }
      : {}),
    ...(r.previous ? { previous: r.previous } : {}),
  };
}

/**
 * One version as `registry list --json` lists it. Pure. Without model file facts (a file that vanished
 * since the scan) sha256 is "" and size null, as they always were.
 */
export function versionJson(v: Version & Partial<ModelFacts>) {
  return {
    stem: v.stem,
    modelType: v.modelType,
    timestamp: v.timestamp,
    score: v.score,
    metric: v.metric,
    sha256: v.sha256 ?? "",
    isProduction: v.isProduction,
    isBest: v.isBest,
    metricsFile: v.metricsFile,
    size: v.size ?? null,
  };
}

/** One version as `registry show --json` and `GET /versions/{stem}` print it: everything read. Pure. */
export function versionDetailJson(v: LoadedVersion) {
  return {
    stem: v.stem,
    modelType: v.modelType,
    timestamp: v.timestamp,
    modelFile: v.modelFile,
    metricsFile: v.metricsFile,
    sha256: v.sha256,
    size: v.size,
    modifiedAt: v.modifiedAt,
    // Always false now that a loaded version is its own type; kept because pipelines may read them.
    modelDeferred: false,
    metricsSha256: v.metricsSha256,
    metrics: v.metrics,
    highlights: v.highlights,
    metricsError: v.metricsError,
    metricsDeferred: false,
    score: v.score,
    metric: v.metric,
    isProduction: v.isProduction,
    isBest: v.isBest,
  };
}

/** Production as `registry list --json` shows it. Pure. */
export function productionJson(s: Pick<Snapshot, "production">) {
  return { stem: s.production.stem, sha256: s.production.sha256, state: s.production.state, explanation: s.production.explanation };
}

/** The problems as `registry list --json` lists them. Pure. */
export function problemsJson(s: Pick<Snapshot, "problems">) {
  return s.problems.map((p) => ({ file: p.file, reason: p.reason, message: p.message }));
}
