import Link from "next/link";
import type { ReactNode } from "react";
import type { Production } from "@/lib/registry";
import { fmtAgo, fmtMetric, fmtTime } from "@/lib/views/format";

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
  best: { stem: string; score: number; metric: string } | null;
  minScore: number;
  now: Date;
  /** The audit log's last completed change to what is live now, when it knows one. */
  changed?: { at: string; by: string; action: string; reason: string | null } | null;
  children?: ReactNode;
}) {
  const { production: p, best, minScore, now } = props;
  const tone = p.state === "ok" ? "good" : p.state === "missing" ? "warn" : "bad";
  const bestGain = best && p.score !== null && best.metric === p.metric && best.stem !== p.stem ? best.score - p.score : null;
  return (
    <section className="card production-card" aria-labelledby="production-title">
      <div className="card-head">
        <h2 id="production-title">Production</h2>
        <span className={`badge badge-${tone}`}>{STATE_LABEL[p.state]}</span>
      </div>
      <div className="production-grid">
        <div>
          <div className="label">Live version</div>
          <div className="value mono">
            {p.stem ? (
              <Link href={`/versions/${p.stem}`} prefetch={false}>
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
        <div>
          <div className="label">Score</div>
          <div className="value tabular">{p.score === null ? "—" : fmtMetric(p.score)}</div>
          <div className="hint">
            {p.metric ?? "no metric"} · threshold {fmtMetric(minScore)}
          </div>
        </div>
        <div>
          <div className="label">Live since</div>
          <div className="value">{props.changed ? fmtTime(props.changed.at) : p.since ? fmtTime(p.since) : "—"}</div>
          <div className="hint">
            {props.changed
              ? `${fmtAgo(props.changed.at, now)} · ${props.changed.action === "model.rolled_back" ? "rolled back" : props.changed.action === "model.change_recovered" ? "completed at start-up" : "promoted"} by ${props.changed.by}`
              : p.since
                ? `${fmtAgo(p.since, now)} · from the alias file's time (no promotion in the audit log yet)`
                : ""}
          </div>
          {props.changed?.reason ? <div className="hint">“{props.changed.reason}”</div> : null}
        </div>
        <div>
          <div className="label">Best candidate</div>
          <div className="value mono">
            {best ? (
              <Link href={`/versions/${best.stem}`} prefetch={false}>
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
      </div>
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
          <Link className="button" href={`/compare?v=${p.stem}&v=${best.stem}`} prefetch={false}>
            Compare production with best
          </Link>
        )}
        {props.children}
      </div>
    </section>
  );
}
