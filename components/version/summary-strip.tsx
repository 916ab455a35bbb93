import type { ReactNode } from "react";
import type { Production, Version } from "@/lib/registry";
import { fmtDelta, fmtMetric, fmtTime } from "@/lib/views/format";
import { deltaTone } from "./facts";

/** Score, change against production, training time and model type at a glance; `children` holds the actions. */
export function SummaryStrip(props: {
  version: Version;
  production: Production;
  hasScore: boolean;
  delta: number | null;
  trainedAt: string | null | undefined;
  trainedBy: string | null | undefined;
  estimator: string | null | undefined;
  children: ReactNode;
}) {
  const { version: v, production: prod, hasScore, delta } = props;
  return (
    <section className="card summary-strip" aria-label="Summary">
      <div>
        <div className="label">Score</div>
        <div className="value tabular">{hasScore ? fmtMetric(v.score) : "—"}</div>
        <div className="hint">{hasScore ? v.metric : "unknown: no usable metric"}</div>
      </div>
      <div>
        <div className="label">Δ vs production</div>
        <div className={`value tabular ${deltaTone(delta)}`}>{v.isProduction ? "live" : fmtDelta(delta)}</div>
        <div className="hint">
          {v.isProduction
            ? "this version is in production"
            : delta === null
              ? prod.stem
                ? "not comparable (different or missing metric)"
                : "nothing in production"
              : `vs ${prod.stem}`}
        </div>
      </div>
      <div>
        <div className="label">Trained at</div>
        <div className="value">{fmtTime(props.trainedAt ?? v.timestamp)}</div>
        <div className="hint">by {props.trainedBy ?? "unknown"}</div>
      </div>
      <div>
        <div className="label">Model type</div>
        <div className="value">{v.modelType}</div>
        <div className="hint">{props.estimator ? `estimator ${props.estimator}` : "from the version's name"}</div>
      </div>
      <div className="card-actions">{props.children}</div>
    </section>
  );
}
