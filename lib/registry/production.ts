// Which version production is: what the alias pair holds, matched against the versions' hashes. Pure.
import type { AliasRead } from "./alias";
import { METRICS_ALIAS, MODEL_ALIAS } from "./listing";
import { UNKNOWN_METRIC } from "./metrics";

/**
 * "blocked": an alias path holds a folder, pipe, socket or device, which no rename can replace and nothing
 * of ours removes: every promotion and rollback is refused until a person moves it away.
 */
export type AliasState = "ok" | "missing" | "unknown" | "mismatched" | "blocked";

export interface Production {
  state: AliasState;
  /** The version whose model bytes the alias holds, or null. */
  stem: string | null;
  sha256: string | null;
  metricsSha256: string | null;
  /** The version whose metrics bytes the metrics alias holds, or null. */
  metricsStem: string | null;
  score: number | null;
  metric: string | null;
  /** When the alias file was last written (until the audit log says more). */
  since: string | null;
  explanation: string;
  action: string | null;
}

/** The versions production may be, by listing index, as the scan knows them. */
export interface Candidates {
  stem(i: number): string;
  score(i: number): number;
  metric(i: number): string;
  /** The versions whose metrics file has this sha256, in listing order. */
  withMetricsSha(sha256: string): number[];
  /**
   * The versions whose model file has this sha256, in listing order: a scan that did not read every model
   * file reads those of `first` (the metrics alias's matches), and all of them only when none matches.
   */
  withModelSha(sha256: string, first: readonly number[]): number[];
}

/**
 * Production as the alias pair says: missing, unknown (bytes of no version), mismatched (the two files
 * belong to different versions) or ok; "blocked" when an alias path holds what no rename can replace.
 */
export function identifyProduction(versions: Candidates, model: AliasRead, metrics: AliasRead): Production {
  const production = matchAliases(versions, model, metrics);
  const blocked = [model, metrics].filter((a) => a.blocked);
  if (blocked.length === 0) return production;
  return {
    ...production,
    state: "blocked",
    explanation: `${blocked.map((a) => a.error).join(" ")} Every promotion and rollback is refused until it is moved away.`,
    action: `Move ${blocked.map((a) => a.file).join(" and ")} out of the way by hand (check what it holds first), then promote or roll back to write the alias pair again.`,
  };
}

function matchAliases(versions: Candidates, model: AliasRead, metrics: AliasRead): Production {
  const empty = { stem: null, sha256: null, metricsSha256: null, metricsStem: null, score: null, metric: null, since: null };
  if (!model.sha256) {
    return {
      ...empty,
      metricsSha256: metrics.sha256,
      state: "missing",
      explanation: model.error ?? `There is no ${MODEL_ALIAS}: nothing is in production.`,
      action: "Promote a version to put it in production.",
    };
  }
  const metricsMatch = metrics.sha256 ? versions.withMetricsSha(metrics.sha256) : [];
  const byModel = versions.withModelSha(model.sha256, metricsMatch);
  // Identical model bytes may be saved under several names; prefer the one whose metrics match too.
  const live = byModel.find((i) => metricsMatch.includes(i)) ?? byModel.at(-1) ?? null;
  const metricsAt = live !== null && metricsMatch.includes(live) ? live : (metricsMatch.at(-1) ?? null);
  const metricsStem = metricsAt === null ? null : versions.stem(metricsAt);
  const base = { sha256: model.sha256, metricsSha256: metrics.sha256, metricsStem, since: model.since };
  if (live === null) {
    return {
      ...base,
      stem: null,
      score: null,
      metric: null,
      state: "unknown",
      explanation: `${MODEL_ALIAS} matches no version in the registry (sha256 ${model.sha256.slice(0, 12)}…): it was written by hand or its version was deleted.`,
      action: "Promote or roll back to a known version to restore a traceable production.",
    };
  }
  const stem = versions.stem(live);
  const metric = versions.metric(live);
  const scored = { stem, score: metric === UNKNOWN_METRIC ? null : versions.score(live), metric };
  if (!metrics.sha256 || metricsStem !== stem) {
    return {
      ...base,
      ...scored,
      state: "mismatched",
      explanation: !metrics.sha256
        ? `${MODEL_ALIAS} is ${stem} but ${METRICS_ALIAS} is missing${metrics.error ? ` (${metrics.error})` : ""}.`
        : `${MODEL_ALIAS} is ${stem} but ${METRICS_ALIAS} ${metricsStem ? `belongs to ${metricsStem}` : "matches no version's metrics"}: APIs would report the wrong metrics.`,
      action: `Promote ${stem} again (or roll back) to rewrite both alias files as one pair.`,
    };
  }
  return { ...base, ...scored, state: "ok", explanation: `Both alias files are byte copies of ${stem}.`, action: null };
}
