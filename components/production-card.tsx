import Link from "next/link";
import type { ReactNode } from "react";
import type { LivePeriod, Production } from "@/lib/registry";
import { fmtAgo, fmtMetric, fmtTime } from "@/lib/views/format";
import { compareHref, versionHref } from "@/lib/views/links";

type Best = { stem: string; score: number; metric: string };

const STATE_LABEL: Record<Production["state"], string> = {
  ok: "Alias OK",
  missing: "No production",
  unknown: "Unknown content",
  mismatched: "Mismatched pair",
  blocked: "Alias blocked",
};

/**
 * What is live: the version the production alias holds (matched by content hash), its score, since when,
 * and whether the alias pair is healthy. `children` is the slot for promote/rollback actions.
 */
export function ProductionCard(props: {
  production: Production;
  best: Best | null;
  minScore: number;
  now: Date;
  /** The newest period of production the audit log records (null: it records no change yet). */
  latest?: LivePeriod | null;
  children?: ReactNode;
}) {
  const { production: p, best, minScore, now } = props;
  const latest = props.latest ?? null;
  // The log's newest period is about these very bytes, or the alias changed since without the registry.
  const recorded = latest !== null && latest.sha256 === p.sha256 ? latest : null;
  const change = recorded && (recorded.start.how === "promoted" || recorded.start.how === "rolled_back") ? recorded.start.change : null;
  const handCopied = latest !== null && p.sha256 !== null && latest.sha256 !== p.sha256;
  const tone = p.state === "ok" ? "good" : p.state === "missing" ? "warn" : "bad";
  const bestGain = best && p.score !== null && best.metric === p.metric && best.stem !== p.stem ? best.score - p.score : null;
  const belowThreshold = p.stem !== null && p.score !== null && p.score < minScore;
  return (
    <section className="card production-card" aria-labelledby="production-title">
      <div className="card-head">
        <h2 id="production-title">Production</h2>
        <span className={`badge badge-${tone}`}>{STATE_LABEL[p.state]}</span>
        {belowThreshold ? (
          <span className="badge badge-bad" data-testid="below-threshold">
            Below threshold
          </span>
        ) : null}
      </div>
      <div className="production-grid">
        <LiveVersion production={p} />
        <LiveScore production={p} minScore={minScore} below={belowThreshold} />
        <LiveSince production={p} change={change} how={recorded?.start.how} handCopied={handCopied} now={now} />
        <BestCandidate production={p} best={best} gain={bestGain} />
      </div>
      {belowThreshold ? <ThresholdFinding production={p} best={best} minScore={minScore} /> : null}
      <p className={`alias-state alias-${tone}`}>
        <strong>{STATE_LABEL[p.state]}:</strong> {p.explanation}
        {p.action && (
          <>
            {" "}
            <strong>What to do:</strong> {p.action}
          </>
        )}
      </p>
      <div className="card-actions">
        {p.stem && best && best.stem !== p.stem && (
          <Link className="button" href={compareHref([p.stem, best.stem])} prefetch={false}>
            Compare production with best
          </Link>
        )}
        {props.children}
      </div>
    </section>
  );
}

function LiveVersion({ production: p }: { production: Production }) {
  return (
    <div>
      <div className="label">Live version</div>
      <div className="value mono">
        {p.stem ? (
          <Link href={versionHref(p.stem)} prefetch={false}>
            {p.stem}
          </Link>
        ) : (
          <span className="muted">none</span>
        )}
      </div>
      {p.sha256 && (
        <div className="hint mono" title={p.sha256}>
          sha256 {p.sha256.slice(0, 12)}…
        </div>
      )}
    </div>
  );
}

function LiveScore({ production: p, minScore, below }: { production: Production; minScore: number; below: boolean }) {
  return (
    <div>
      <div className="label">Score</div>
      <div className={`value tabular${below ? " delta-bad" : ""}`}>{p.score === null ? "—" : fmtMetric(p.score)}</div>
      <div className="hint">
        {p.metric ?? "no metric"} · threshold {fmtMetric(minScore)}
      </div>
    </div>
  );
}

function LiveSince(props: {
  production: Production;
  change: Extract<LivePeriod["start"], { change: unknown }>["change"] | null;
  how: LivePeriod["start"]["how"] | undefined;
  handCopied: boolean;
  now: Date;
}) {
  const { production: p, change, handCopied, now } = props;
  return (
    <div>
      <div className="label">Live since</div>
      <div className="value">{change ? fmtTime(change.at) : p.since ? fmtTime(p.since) : "—"}</div>
      <div className="hint">
        {change
          ? `${fmtAgo(change.at, now)} · ${change.recovered ? "completed at start-up" : props.how === "rolled_back" ? "rolled back" : "promoted"} by ${change.actor}`
          : handCopied
            ? "changed outside the registry: no recorded change put these bytes live"
            : p.since
              ? `${fmtAgo(p.since, now)} · from the alias file's time (no change in the audit log yet)`
              : ""}
      </div>
      {change?.reason ? <div className="hint">“{change.reason}”</div> : null}
    </div>
  );
}

function BestCandidate(props: { production: Production; best: Best | null; gain: number | null }) {
  const { production: p, best, gain: bestGain } = props;
  return (
    <div>
      <div className="label">Best candidate</div>
      <div className="value mono">
        {best ? (
          <Link href={versionHref(best.stem)} prefetch={false}>
            {best.stem}
          </Link>
        ) : (
          <span className="muted">none</span>
        )}
      </div>
      <div className="hint">
        {best && best.stem === p.stem
          ? "Production is the best version."
          : bestGain !== null
            ? `${best?.metric} ${fmtMetric(best?.score)} (${bestGain >= 0 ? "+" : "−"}${Math.abs(bestGain).toFixed(4)} vs production)`
            : best
              ? `${best.metric} ${fmtMetric(best.score)}`
              : ""}
      </div>
    </div>
  );
}

/** Said plainly when what is live scores under the release threshold, with whether the best candidate passes. */
function ThresholdFinding(props: { production: Production; best: Best | null; minScore: number }) {
  const { production: p, best, minScore } = props;
  const bestPasses = best !== null && best.stem !== p.stem && best.score >= minScore;
  return (
    <p className="alert alert-bad threshold-finding" role="note" data-testid="threshold-finding">
      <strong>Production fails <code>min_score</code>:</strong> its {p.metric} {fmtMetric(p.score)} is below the release threshold{" "}
      {fmtMetric(minScore)}.{" "}
      {bestPasses ? (
        <>
          The best candidate <span className="mono">{best.stem}</span> passes ({best.metric} {fmtMetric(best.score)}).
        </>
      ) : (
        "No candidate passes it either."
      )}
    </p>
  );
}
