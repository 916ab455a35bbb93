import type { Check } from "@/lib/registry";
import { checkTone, loadCheckFacts, TONE_BADGE, TONE_LABEL } from "@/lib/views/check-status";
import { fmtMetric } from "@/lib/views/format";
import { entriesOf } from "@/lib/views/json-display";
import { Fact } from "./facts";

/** Plain names of the checks people meet most; any other check shows under its own name, so a new one needs no change here. */
const CHECK_LABEL: Partial<Record<string, string>> = {
  metrics_exist: "Metrics exist",
  min_score: "Meets the release threshold",
  no_degradation: "No regression vs production",
  artifact_readable: "Model file readable",
  artifact_safe: "Model file safe to load",
  feature_schema: "Feature schema matches production",
  was_live: "Was live before (rollback only)",
  alias_replaceable: "Production alias can be replaced",
  loads_and_predicts: "Model loads and predicts (in a sandbox)",
};

/** Checks that compare a candidate with production: meaningless for production itself. */
const SELF_COMPARISONS = new Set(["no_degradation", "feature_schema", "alias_replaceable"]);

/** A check's name for people: its label, or its code with the underscores read as spaces. */
export function checkLabel(name: string): string {
  const label = CHECK_LABEL[name] ?? name.replaceAll("_", " ");
  return label.charAt(0).toUpperCase() + label.slice(1);
}

/** Every readiness check a promotion of a version would run now, with its detail and evidence. */
export function ReadinessCard(props: {
  checks: readonly Check[];
  verdict: "noop" | "allowed" | "refused";
  production: string | null;
  threshold: number;
}) {
  const live = props.verdict === "noop";
  // Production measured against itself says nothing: the comparison checks are left out for the live version.
  const checks = live ? props.checks.filter((c) => !SELF_COMPARISONS.has(c.name)) : props.checks;
  return (
    <section className="card" aria-labelledby="checks-title">
      <div className="card-head">
        <h2 id="checks-title">Readiness for production</h2>
        <span className={`badge ${props.verdict === "refused" ? "badge-bad" : "badge-good"}`}>
          {props.verdict === "noop" ? "Already live" : props.verdict === "allowed" ? "Would pass" : "Would be refused"}
        </span>
      </div>
      {live ? (
        <p className="muted">
          This version is production. The checks it passes today against the threshold {fmtMetric(props.threshold)} (none compares it with
          itself):
        </p>
      ) : (
        <p className="muted">
          Checks a promotion of this version would run now, against production{" "}
          {props.production ? <span className="mono">{props.production}</span> : "(none)"} and the threshold {fmtMetric(props.threshold)}.
        </p>
      )}
      <ul className="checks">
        {checks.map((c) => (
          <CheckItem key={c.name} check={c} />
        ))}
      </ul>
    </section>
  );
}

function CheckItem({ check: c }: { check: Check }) {
  const tone = checkTone(c);
  const status = tone === "not_run" ? "not-run" : tone === "not_run_blocks" ? "failed" : tone;
  // Row i is the evidence's i-th key (entriesOf keeps the order); a JSON null reads as a dash, not "null".
  const keys = Object.keys(c.evidence);
  const evidence = entriesOf(c.evidence, { fixed: true }).rows.map(([k, v], i): [string, string | null] => [
    k,
    c.evidence[keys[i] ?? ""] === null ? null : v,
  ]);
  return (
    <li className={`check check-${status}`} data-check={c.name}>
      <span className={`badge ${TONE_BADGE[tone]}`}>{TONE_LABEL[tone]}</span>
      <div className="check-body">
        <div className="check-name">
          {checkLabel(c.name)} <code>{c.name}</code>
          {!c.passed &&
            (c.overridable ? (
              <span className="muted"> · can be overridden with a reason</span>
            ) : (
              <span className="muted"> · cannot be overridden</span>
            ))}
        </div>
        <div>{c.detail}</div>
        <LoadFacts check={c} />
        {evidence.length > 0 && (
          <details>
            <summary>Evidence</summary>
            <dl className="facts facts-small">
              {evidence.map(([k, v], i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: rows are a fixed, ordered projection of the evidence
                <Fact key={i} term={k} value={v} mono wrap />
              ))}
            </dl>
          </details>
        )}
      </div>
    </li>
  );
}

/** For the load check: what the sandboxed load saw (versions, times, output), shown without opening the evidence. */
export function LoadFacts({ check }: { check: Pick<Check, "name" | "evidence"> }) {
  const facts = check.name === "loads_and_predicts" ? loadCheckFacts(check.evidence) : [];
  if (!facts.length) return null;
  return (
    <dl className="facts facts-small" data-testid="load-check-facts">
      {facts.map(([term, value]) => (
        <Fact key={term} term={term} value={value} mono wrap />
      ))}
    </dl>
  );
}
