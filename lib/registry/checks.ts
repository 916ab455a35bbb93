import { periodFacts, type RollbackEligibility } from "./live-history";
import type { JsonValue } from "./metrics";
import { UNKNOWN_METRIC } from "./metrics";
import type { LoadedVersion, Production } from "./scan";

export const CHECK_NAMES = [
  "metrics_exist",
  "min_score",
  "no_degradation",
  "artifact_readable",
  "artifact_safe",
  "feature_schema",
  "was_live",
  "alias_replaceable",
  "loads_and_predicts",
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** Checks a release manager may override with a written reason; the others protect production outright. */
export const OVERRIDABLE: ReadonlySet<CheckName> = new Set(["min_score", "no_degradation", "feature_schema", "loads_and_predicts"]);
export const DEFAULT_MIN_SCORE = 0.6;

export interface Check {
  name: CheckName;
  passed: boolean;
  detail: string;
  overridable: boolean;
  /** Set when a failed overridable check was overridden; the reason is kept with it. */
  overridden: boolean;
  overrideReason: string | null;
  /** Not evaluated for this kind of change (a rollback to a version that was live skips threshold and degradation). */
  skipped: boolean;
  evidence: Record<string, JsonValue>;
}

/** What reading the candidate's model file found (gathered by `gatherEvidence`, so checks stay pure). */
export interface ArtifactEvidence {
  readable: boolean;
  detail: string;
  size: number | null;
  magic: string | null;
}

/** The static inspector's verdicts, when available (see lib/inspect). */
export interface SafetyEvidence {
  candidate: { verdict: string; reason: string; unsafeGlobals: string[]; catCols: string[] | null; numCols: string[] | null };
  production: { catCols: string[] | null; numCols: string[] | null } | null;
  schemaMatch: { matches: boolean; detail: string } | null;
}

/**
 * What loading the candidate in a sandbox found (lib/load-check): it loaded and predicted, it did not, or the
 * check could not run (no serving Python, no sandbox, a file not judged safe), which blocks only where the
 * registry says so.
 */
export interface LoadCheckFacts {
  /** "running": started, not answered yet (only a preview that does not wait sees it). */
  status: "passed" | "failed" | "not_run" | "running";
  detail: string;
  evidence: Record<string, JsonValue>;
  notRunBlocks?: boolean;
}

export interface CheckInputs {
  kind: "promote" | "rollback";
  target: LoadedVersion;
  production: Production;
  productionVersion: LoadedVersion | null;
  minScore: number;
  artifact: ArtifactEvidence;
  safety: SafetyEvidence | null;
  /** For a rollback: whether the target was live, from the audit log (see rollbackEligibility). */
  rollback?: RollbackEligibility | null;
  /** The sandboxed load of the candidate, when it was tried (see LoadCheckFacts). */
  loadCheck?: LoadCheckFacts | null;
}

/** How many of a target's live periods a check's evidence keeps (the newest); the count says how many in all. */
const PERIODS_IN_EVIDENCE = 5;

/** Evaluates every readiness check for moving `target` into production. Pure. */
export function runChecks(input: CheckInputs): Check[] {
  const { target, productionVersion, minScore, kind } = input;
  const hasMetrics = target.metrics !== null && target.metric !== UNKNOWN_METRIC;
  if (kind === "rollback" && !input.rollback) throw new Error("runChecks: a rollback needs the target's live record (rollbackEligibility)");
  // Only a target that was live skips the score gates: anything else asked as a rollback is judged as a promotion.
  const rollback = kind === "rollback" && input.rollback?.legitimate === true;
  const checks: Check[] = [
    ...(input.rollback && kind === "rollback" ? [wasLive(input.rollback)] : []),
    make("metrics_exist", hasMetrics, {
      detail: hasMetrics
        ? `${target.metricsFile} has a numeric ${target.metric}.`
        : target.metricsError
          ? `Metrics unusable: ${target.metricsError}`
          : target.metricsFile
            ? `${target.metricsFile} has none of pr_auc, average_precision, roc_auc, f1, accuracy as a number.`
            : `No metrics file: training must write metrics/${target.stem}.json next to the model.`,
      evidence: { metricsFile: target.metricsFile, metricsSha256: target.metricsSha256, metric: target.metric },
    }),
  ];

  if (rollback) {
    checks.push(skippedCheck("min_score", "Skipped for a rollback: this version was live before (see was_live), so it may go back."));
    checks.push(
      skippedCheck("no_degradation", "Skipped for a rollback to a version that was live: going back usually means a lower score."),
    );
  } else {
    const meets = hasMetrics && target.score >= minScore;
    checks.push(
      make("min_score", meets, {
        detail: hasMetrics
          ? `${target.metric} ${fmt(target.score)} ${meets ? "≥" : "<"} threshold ${fmt(minScore)}.`
          : `No score to compare with the threshold ${fmt(minScore)}.`,
        evidence: { score: target.score, metric: target.metric, threshold: minScore },
      }),
    );
    checks.push(degradation(target, productionVersion, input.production));
  }

  checks.push(
    make("artifact_readable", input.artifact.readable, {
      detail: input.artifact.detail,
      evidence: { modelFile: target.modelFile, sha256: target.sha256, size: input.artifact.size, magic: input.artifact.magic },
    }),
  );

  if (input.safety) {
    const s = input.safety;
    const safe = s.candidate.verdict === "safe";
    checks.push(
      make("artifact_safe", safe, {
        detail: safe
          ? s.candidate.reason
          : `Verdict ${s.candidate.verdict}: ${s.candidate.reason}${s.candidate.unsafeGlobals.length ? ` (${s.candidate.unsafeGlobals.join(", ")})` : ""}`,
        evidence: { verdict: s.candidate.verdict, unsafeGlobals: s.candidate.unsafeGlobals },
      }),
    );
    const match = s.schemaMatch;
    checks.push(
      make("feature_schema", match ? match.matches : true, {
        detail: match ? match.detail : "No production schema to compare with.",
        evidence: {
          catCols: s.candidate.catCols,
          numCols: s.candidate.numCols,
          productionCatCols: s.production?.catCols ?? null,
          productionNumCols: s.production?.numCols ?? null,
        },
      }),
    );
  }

  // Last, so the checks that were there before keep their places in every listing.
  const blocked = input.production.state === "blocked";
  checks.push(
    make("alias_replaceable", !blocked, {
      detail: blocked ? input.production.explanation : "Both production alias paths can be replaced: each is a file, a link or absent.",
      evidence: { productionState: input.production.state },
    }),
  );
  if (input.loadCheck) checks.push(loadsAndPredicts(input.loadCheck));
  return checks;
}

/** The sandboxed load as a check: passed, failed (overridable with a reason), not run (blocking only if required), or still running (not passed yet). */
function loadsAndPredicts(facts: LoadCheckFacts): Check {
  const passed = facts.status === "passed" || (facts.status === "not_run" && facts.notRunBlocks !== true);
  return make("loads_and_predicts", passed, { detail: facts.detail, evidence: { status: facts.status, ...facts.evidence } });
}

/** The rollback rule as a check: its evidence is when the target's bytes were live, and who put them there. */
function wasLive(r: RollbackEligibility): Check {
  return make("was_live", r.legitimate, {
    detail: r.explanation,
    evidence: {
      sha256: r.target.sha256,
      finding: r.code,
      timesLive: r.total,
      periods: r.periods.slice(0, PERIODS_IN_EVIDENCE).map((p) => ({ ...periodFacts(p) })),
    },
  });
}

function degradation(target: LoadedVersion, prod: LoadedVersion | null, production: Production): Check {
  const evidence = {
    score: target.score,
    metric: target.metric,
    productionStem: prod?.stem ?? null,
    productionScore: prod && prod.metric !== UNKNOWN_METRIC ? prod.score : null,
    productionMetric: prod?.metric ?? null,
  };
  if (!prod) {
    return make("no_degradation", true, {
      detail:
        production.sha256 === null
          ? "Nothing in production yet: nothing to degrade."
          : "Production matches no known version: no score to compare with.",
      evidence,
    });
  }
  if (prod.metric === UNKNOWN_METRIC) {
    return make("no_degradation", true, { detail: `Production (${prod.stem}) has no score to compare with.`, evidence });
  }
  if (target.metric !== prod.metric) {
    return make("no_degradation", false, {
      detail: `Scores are not comparable: candidate is scored by ${target.metric}, production (${prod.stem}) by ${prod.metric}.`,
      evidence,
    });
  }
  const delta = target.score - prod.score;
  const ok = delta >= 0;
  return make("no_degradation", ok, {
    detail: `${target.metric} ${fmt(target.score)} vs production ${fmt(prod.score)} (${prod.stem}): ${delta >= 0 ? "+" : ""}${fmt(delta)}.`,
    evidence: { ...evidence, delta },
  });
}

function make(name: CheckName, passed: boolean, x: { detail: string; evidence: Record<string, JsonValue> }): Check {
  return {
    name,
    passed,
    detail: x.detail,
    overridable: OVERRIDABLE.has(name),
    overridden: false,
    overrideReason: null,
    skipped: false,
    evidence: x.evidence,
  };
}

function skippedCheck(name: CheckName, detail: string): Check {
  return { ...make(name, true, { detail, evidence: {} }), skipped: true };
}

/** Four decimals always, as every page and the CLI show metrics ("+0.0000", never "+0.00"). Pure. */
export function fmt(n: number): string {
  return n.toFixed(4);
}
