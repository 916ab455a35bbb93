import { join } from "node:path";
import {
  type ArtifactEvidence,
  type Check,
  type CheckName,
  type LoadCheckFacts,
  OVERRIDABLE,
  runChecks,
  type SafetyEvidence,
} from "./checks";
import { InvalidInputError, RefusedError, UnknownVersionError } from "./errors";
import { openRegular } from "./files";
import { type LiveRecord, type RollbackEligibility, rollbackEligibility } from "./live-history";
import { type JsonValue, metricNumber, SCORE_KEYS } from "./metrics";
import { type LoadedVersion, METRICS_ALIAS, MODEL_ALIAS, type Production, type RegistryView, type Version } from "./scan";

export type ChangeKind = "promote" | "rollback";

export interface Override {
  check: CheckName;
  reason: string;
}

export interface ChangeRequest {
  kind: ChangeKind;
  /** Validated stem; for a promotion, omitted means "the best version". */
  version?: string;
  minScore: number;
  overrides: Override[];
  reason?: string | null;
}

export interface FileChange {
  alias: string;
  source: string;
  currentSha256: string | null;
  newSha256: string;
}

export interface MetricChange {
  metric: string;
  from: number | null;
  to: number | null;
  delta: number | null;
}

export interface VersionRef {
  stem: string;
  sha256: string;
  metricsSha256: string | null;
  score: number;
  metric: string;
}

export interface Plan {
  kind: ChangeKind;
  target: VersionRef;
  /** What production is now: the guard `apply` re-checks under the lock. */
  current: {
    stem: string | null;
    state: Production["state"];
    sha256: string | null;
    metricsSha256: string | null;
    score: number | null;
    metric: string | null;
  };
  /** True when the target already is production with a consistent alias pair: nothing to write. */
  noop: boolean;
  files: FileChange[];
  checks: Check[];
  /** False when a check failed and was not overridden. */
  allowed: boolean;
  refusal: string | null;
  /**
   * Why it is refused, as a stable code: `never_live` when a rollback's target was never production (it
   * must be promoted instead), `checks_failed` for any other failed check; null when allowed.
   */
  refusalCode: "never_live" | "checks_failed" | null;
  /** For a rollback: whether the target was live, when, and who put it there (null for a promotion). */
  rollback: RollbackEligibility | null;
  minScore: number;
  overrides: Override[];
  reason: string | null;
  /**
   * Every metric of the candidate and of production against each other, up to MAX_METRIC_CHANGES (the
   * score metrics first when there are more): a plan goes into the audit log and the preview dialog.
   */
  metricChanges: MetricChange[];
  /** How many metrics metricChanges leaves out (0 for any real metrics file). */
  metricChangesOmitted: number;
}

/** What to do about failed checks: an override helps only when every failed check can be overridden. */
function adviceFor(blocking: readonly Check[]): string {
  const fixed = blocking.filter((c) => !c.overridable).map((c) => c.name);
  if (fixed.length) return `${fixed.join(" and ")} cannot be overridden: fix ${fixed.length === 1 ? "it" : "them"} first.`;
  return `To go ahead anyway, override ${blocking.map((c) => c.name).join(" and ")} with a written reason.`;
}

/** The most metric changes a plan lists (a metrics file may hold 150,000 keys within its size cap). */
export const MAX_METRIC_CHANGES = 200;

/** Facts read from disk that the pure planner needs. */
export interface Evidence {
  artifact: ArtifactEvidence;
  safety: SafetyEvidence | null;
  /** For a rollback: what the audit log recorded about the target's bytes being production. */
  liveRecord?: LiveRecord;
  /** The candidate loaded and asked to predict in a sandbox (lib/load-check), when it was tried. */
  loadCheck?: LoadCheckFacts | null;
}

/** Picks the version a request names (or the best one for a plain promotion). Pure; throws typed errors. */
export function resolveTarget(registry: RegistryView, request: Pick<ChangeRequest, "kind" | "version">): Version {
  if (request.version === undefined) {
    if (request.kind === "rollback") throw new InvalidInputError("A rollback needs a version: --to STEM or --previous.");
    const best = registry.best === null ? undefined : registry.version(registry.best);
    if (!best) {
      throw new RefusedError(
        "No candidates found for promotion: training must write both .joblib and .json with matching names (models/{model_type}_{YYYYMMDDTHHMMSSZ}.joblib and metrics/{same stem}.json).",
      );
    }
    return best;
  }
  const found = registry.version(request.version);
  if (!found) throw new UnknownVersionError(request.version);
  return found;
}

/** The versions a plan is about, with everything read (see loadVersion): the candidate and production's. */
export interface PlanSubjects {
  target: LoadedVersion;
  production: LoadedVersion | null;
}

/**
 * Computes what a promotion or rollback would do: the files it replaces, every readiness check with its
 * evidence, and whether it is allowed. Pure: touches nothing. Throws InvalidInputError for an override
 * of a check that cannot be overridden or an override with no reason.
 */
export function planChange(
  registry: Pick<RegistryView, "production">,
  subjects: PlanSubjects,
  request: ChangeRequest,
  evidence: Evidence,
): Plan {
  for (const o of request.overrides) {
    if (!OVERRIDABLE.has(o.check)) {
      throw new InvalidInputError(`The check "${o.check}" cannot be overridden; only ${[...OVERRIDABLE].join(", ")} can, with a reason.`);
    }
    if (!o.reason.trim()) throw new InvalidInputError(`Overriding "${o.check}" needs a written reason (--reason TEXT).`);
  }
  const { target, production: productionVersion } = subjects;
  const production = registry.production;
  if (request.version !== undefined && request.version !== target.stem) throw new Error("planChange: the subjects are not the request's");
  if (request.kind === "rollback" && !evidence.liveRecord) throw new Error("planChange: a rollback needs the target's live record");
  const rollback =
    request.kind === "rollback" && evidence.liveRecord
      ? rollbackEligibility({ stem: target.stem, sha256: target.sha256 }, production, evidence.liveRecord)
      : null;
  const checks = runChecks({
    kind: request.kind,
    target,
    production,
    productionVersion,
    minScore: request.minScore,
    artifact: evidence.artifact,
    safety: evidence.safety,
    rollback,
    loadCheck: evidence.loadCheck ?? null,
  }).map((c) => {
    const o = request.overrides.find((x) => x.check === c.name);
    return !c.passed && o && c.overridable ? { ...c, overridden: true, overrideReason: o.reason } : c;
  });
  const blocking = checks.filter((c) => !c.passed && !c.overridden);
  const noop = production.stem === target.stem && production.state === "ok";
  const neverLive = rollback !== null && !rollback.legitimate;
  const refusal = neverLive
    ? `Refused as a rollback: ${rollback.explanation} To put it in production, promote it (registry promote --version ${target.stem}, or Promote on its page).`
    : blocking.length
      ? // A detail is a sentence: its own full stop would end up inside the brackets ("0.6000.).").
        `Refused: ${blocking.map((c) => `${c.name} failed (${c.detail.replace(/\.$/, "")})`).join("; ")}. ${adviceFor(blocking)}`
      : null;
  return {
    kind: request.kind,
    target: ref(target),
    current: {
      stem: production.stem,
      state: production.state,
      sha256: production.sha256,
      metricsSha256: production.metricsSha256,
      score: production.score,
      metric: production.metric,
    },
    noop,
    files: noop
      ? []
      : [
          { alias: MODEL_ALIAS, source: target.modelFile, currentSha256: production.sha256, newSha256: target.sha256 },
          {
            alias: METRICS_ALIAS,
            source: target.metricsFile ?? "",
            currentSha256: production.metricsSha256,
            newSha256: target.metricsSha256 ?? "",
          },
        ],
    checks,
    allowed: blocking.length === 0,
    refusal,
    refusalCode: neverLive ? "never_live" : blocking.length ? "checks_failed" : null,
    rollback,
    minScore: request.minScore,
    overrides: request.overrides,
    reason: request.reason?.trim() || request.overrides[0]?.reason || null,
    ...metricChanges(target, productionVersion),
  };
}

/**
 * Reads what the checks need from the candidate's model file: that it opens as a non-empty regular file,
 * and its first bytes. Reads at most 8 bytes; never follows a symlink.
 */
export async function readArtifactEvidence(root: string, target: Pick<Version, "modelFile">): Promise<ArtifactEvidence> {
  try {
    const { fh, stats } = await openRegular(join(root, target.modelFile));
    try {
      const head = Buffer.alloc(8);
      const { bytesRead } = await fh.read(head, 0, 8, 0);
      if (stats.size === 0 || bytesRead === 0) {
        return { readable: false, detail: `${target.modelFile} is empty.`, size: stats.size, magic: null };
      }
      return {
        readable: true,
        detail: `${target.modelFile} is a readable regular file of ${stats.size} bytes.`,
        size: stats.size,
        magic: head.subarray(0, bytesRead).toString("hex"),
      };
    } finally {
      await fh.close();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    return { readable: false, detail: `${target.modelFile} cannot be read (${code}).`, size: null, magic: null };
  }
}

function ref(v: LoadedVersion): VersionRef {
  return { stem: v.stem, sha256: v.sha256, metricsSha256: v.metricsSha256, score: v.score, metric: v.metric };
}

const NO_METRICS: Record<string, JsonValue> = Object.freeze(Object.create(null));

/** The metrics of both versions in file order (candidate's, then production's own), bounded. */
function metricChanges(target: LoadedVersion, prod: LoadedVersion | null): Pick<Plan, "metricChanges" | "metricChangesOmitted"> {
  const mine = target.metrics?.metrics ?? NO_METRICS;
  const theirs = prod?.metrics?.metrics ?? NO_METRICS;
  const own = Object.keys(mine);
  const only = Object.keys(theirs).filter((k) => !Object.hasOwn(mine, k));
  const total = own.length + only.length;
  const keys =
    total <= MAX_METRIC_CHANGES
      ? [...own, ...only]
      : [
          ...new Set([
            ...SCORE_KEYS.filter((k) => Object.hasOwn(mine, k) || Object.hasOwn(theirs, k)),
            ...own.slice(0, MAX_METRIC_CHANGES),
            ...only.slice(0, MAX_METRIC_CHANGES),
          ]),
        ].slice(0, MAX_METRIC_CHANGES);
  const changes = keys.map((metric) => {
    const to = metricNumber(target.metrics, metric);
    const from = metricNumber(prod?.metrics ?? null, metric);
    return { metric, from, to, delta: to !== null && from !== null ? to - from : null };
  });
  return { metricChanges: changes, metricChangesOmitted: total - changes.length };
}
