import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import {
  type Check,
  InvalidInputError,
  planChange,
  readArtifactEvidence,
  type RollbackEligibility,
  resolveTarget,
  rollbackEligibility,
  viewOf,
  UNKNOWN_METRIC,
  UnknownVersionError,
  validateVersionName,
} from "@/lib/registry";
import { ReleaseActions } from "@/components/release-dialog";
import { InspectionCard } from "@/components/inspection-card";
import { productionHistory } from "@/lib/audit";
import { can } from "@/lib/auth";
import { safetyEvidence } from "@/lib/registry/plan-from-disk";
import { inspectVersions } from "@/lib/server/inspection";
import { trustPolicy } from "@/lib/trust/trust-list";
import { loadSnapshot, minScore, withDocuments } from "@/lib/server/registry";
import { db, requirePage } from "@/lib/server/session";
import { applyChange, previewChange } from "../../actions";
import { fmtBytes, fmtCount, fmtDelta, fmtMetric, fmtTime } from "@/lib/views/format";
import { clip, clipStrings, entriesOf, MAX_KEY_CHARS, valueText } from "@/lib/views/json-display";
import { compareHref, metricsHref } from "@/lib/views/links";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ stem: string }> };

/** The stem from the URL, or a 404: a malformed name is "no such page", never a server error. */
function stemOr404(raw: string): string {
  try {
    return validateVersionName(raw);
  } catch (e) {
    if (e instanceof InvalidInputError) notFound();
    throw e;
  }
}

export async function generateMetadata(props: Props): Promise<Metadata> {
  const { stem } = await props.params;
  return { title: stem.length <= 200 ? stem : "Version" };
}

const CHECK_LABEL: Record<Check["name"], string> = {
  metrics_exist: "Metrics exist",
  min_score: "Meets the release threshold",
  no_degradation: "No regression vs production",
  artifact_readable: "Model file readable",
  artifact_safe: "Model file safe to load",
  feature_schema: "Feature schema matches production",
  was_live: "Was live before (rollback only)",
  alias_replaceable: "Production alias can be replaced",
};

export default async function VersionPage(props: Props) {
  const rawStem = (await props.params).stem;
  const user = await requirePage("registry.read", `/versions/${encodeURIComponent(rawStem)}`);
  const stem = stemOr404(rawStem);
  const cached = await loadSnapshot();
  const snapshot = withDocuments(cached, [stem, cached.production.stem]);
  let target: ReturnType<typeof resolveTarget>;
  try {
    target = resolveTarget(viewOf(snapshot), { kind: "promote", version: stem });
  } catch (e) {
    if (e instanceof UnknownVersionError) notFound();
    throw e;
  }
  const threshold = minScore();
  const productionVersion = snapshot.versions.find((v) => v.stem === snapshot.production.stem) ?? null;
  const policy = await trustPolicy(db());
  const [artifact, safety, reports] = await Promise.all([
    readArtifactEvidence(snapshot.root, target),
    safetyEvidence(snapshot.root, target, snapshot, productionVersion, policy),
    inspectVersions(snapshot.root, [target]),
  ]);
  const plan = planChange(viewOf(snapshot), { kind: "promote", version: stem, minScore: threshold, overrides: [] }, { artifact, safety });
  const report = reports.get(stem);
  const releaser = can(user.roles, "model.promote");
  const prod = snapshot.production;
  // Rollback is offered only for bytes the audit log recorded live; anything else is a promotion.
  const rollback: RollbackEligibility | null =
    releaser && !target.isProduction ? rollbackEligibility(target, prod, await productionHistory(db()).liveRecord(target.sha256)) : null;
  const doc = target.metrics;
  // The metadata's strings come from the file, at any length.
  const meta = doc ? clipStrings(doc.meta) : undefined;
  const hasScore = target.metric !== UNKNOWN_METRIC;
  const delta = hasScore && prod.score !== null && prod.metric === target.metric ? target.score - prod.score : null;
  // Bounded whatever the file holds: a few hundred rows of cut text at most, the rest counted and downloadable.
  const hyper = entriesOf(doc?.hyperparameters);
  const extra = entriesOf(doc?.extra);
  const download = target.metricsFile ? metricsHref(stem) : null;

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href="/">Overview</Link> <span aria-hidden="true">/</span> <span className="mono">{stem}</span>
      </nav>
      <div className="page-head">
        <h1 className="mono">{stem}</h1>
        <div className="badges">
          {target.isProduction && <span className="badge badge-good">Production</span>}
          {target.isBest && <span className="badge badge-accent">Best</span>}
          {!hasScore && <span className="badge badge-warn">No score</span>}
        </div>
      </div>

      {target.metricsError && (
        <p className="alert alert-bad" role="note">
          <strong>Metrics file is broken:</strong> {target.metricsError} The version is listed without metrics until the file is fixed.
        </p>
      )}

      <section className="card summary-strip" aria-label="Summary">
        <div>
          <div className="label">Score</div>
          <div className="value tabular">{hasScore ? fmtMetric(target.score) : "—"}</div>
          <div className="hint">{hasScore ? target.metric : "no usable metric"}</div>
        </div>
        <div>
          <div className="label">Δ vs production</div>
          <div className={`value tabular ${delta !== null && delta < 0 ? "delta-bad" : delta !== null && delta > 0 ? "delta-good" : ""}`}>
            {target.isProduction ? "live" : fmtDelta(delta)}
          </div>
          <div className="hint">
            {target.isProduction
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
          <div className="value">{fmtTime(meta?.trainedAt ?? target.timestamp)}</div>
          <div className="hint">by {meta?.trainedBy ?? "unknown"}</div>
        </div>
        <div>
          <div className="label">Model type</div>
          <div className="value">{target.modelType}</div>
          <div className="hint">{meta?.modelType ?? ""}</div>
        </div>
        <div className="card-actions">
          {prod.stem && !target.isProduction && (
            <Link className="button button-primary" href={compareHref([prod.stem, stem])}>
              Compare with production
            </Link>
          )}
          {snapshot.best && snapshot.best !== stem && snapshot.best !== prod.stem && (
            <Link className="button" href={compareHref([snapshot.best, stem])}>
              Compare with best
            </Link>
          )}
          {releaser ? (
            <ReleaseActions
              preview={previewChange}
              apply={applyChange}
              actions={
                target.isProduction
                  ? []
                  : [
                      { kind: "promote", version: stem, label: "Promote" },
                      ...(rollback?.legitimate
                        ? [{ kind: "rollback" as const, version: stem, label: "Rollback to this version", danger: true }]
                        : []),
                    ]
              }
            />
          ) : null}
        </div>
      </section>
      {rollback ? (
        <p className={rollback.legitimate ? "muted" : "alert"} id="rollback-eligibility" data-finding={rollback.code}>
          {rollback.legitimate ? `Rollback possible: ${rollback.explanation}` : `No rollback to this version: ${rollback.explanation}`}
        </p>
      ) : null}

      <div className="two-col">
        <section className="card" aria-labelledby="metrics-title">
          <h2 id="metrics-title">Metrics</h2>
          {plan.metricChanges.length === 0 ? (
            <p className="muted">No metrics recorded.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Metric</th>
                  <th scope="col" className="num">
                    This version
                  </th>
                  <th scope="col" className="num">
                    Production
                  </th>
                  <th scope="col" className="num">
                    Δ
                  </th>
                </tr>
              </thead>
              <tbody>
                {plan.metricChanges.map((m) => (
                  <tr key={m.metric}>
                    <th scope="row">{clip(m.metric, MAX_KEY_CHARS)}</th>
                    <td className="num">{m.to === null ? valueText(doc?.metrics[m.metric] ?? null) : fmtMetric(m.to)}</td>
                    <td className="num">{fmtMetric(m.from)}</td>
                    <td
                      className={`num ${m.delta !== null && m.delta < 0 ? "delta-bad" : m.delta !== null && m.delta > 0 ? "delta-good" : ""}`}
                    >
                      {fmtDelta(m.delta)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <More count={plan.metricChangesOmitted} noun="metrics" testId="metrics-more" download={download} />
          <h2 id="hyper-title" className="section-gap">
            Hyperparameters
          </h2>
          {hyper.rows.length === 0 ? (
            <p className="muted">No hyperparameters recorded.</p>
          ) : (
            <table aria-labelledby="hyper-title">
              <tbody>
                {hyper.rows.map(([k, v], i) => (
                  // By position: two keys may read the same once cut.
                  // biome-ignore lint/suspicious/noArrayIndexKey: rows are a fixed, ordered projection of the file
                  <tr key={i}>
                    <th scope="row">{k}</th>
                    <td className="num mono">{v}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <More count={hyper.more} noun="hyperparameters" testId="hyperparameters-more" download={download} />
        </section>

        <section className="card" aria-labelledby="meta-title">
          <h2 id="meta-title">Metadata</h2>
          <dl className="facts">
            <Fact term="Model type" value={meta?.modelType ?? target.modelType} />
            <Fact term="Trained at" value={fmtTime(meta?.trainedAt ?? target.timestamp)} />
            <Fact term="Trained by" value={meta?.trainedBy} />
            <Fact term="Git commit" value={meta?.gitCommit} mono />
            <Fact term="Data version" value={meta?.dataVersion} />
            <Fact term="Train rows" value={meta?.trainRows == null ? null : fmtCount(meta.trainRows)} />
            <Fact term="Test rows" value={meta?.testRows == null ? null : fmtCount(meta.testRows)} />
            <Fact term="Churn rate (train)" value={meta?.churnRateTrain == null ? null : fmtMetric(meta.churnRateTrain)} />
            <Fact term="Churn rate (test)" value={meta?.churnRateTest == null ? null : fmtMetric(meta.churnRateTest)} />
            {extra.rows.map(([k, v], i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows are a fixed, ordered projection of the file
              <Fact key={i} term={k} value={v} mono />
            ))}
          </dl>
          <More count={extra.more} noun="other fields" testId="extra-more" download={download} />
          <h2 className="section-gap">Files</h2>
          <dl className="facts">
            <Fact term="Model file" value={target.modelFile} mono />
            <Fact term="Size" value={`${fmtBytes(target.size)} (${fmtCount(target.size)} bytes)`} />
            <Fact term="sha256" value={target.sha256} mono wrap />
            <Fact term="Modified" value={fmtTime(target.modifiedAt)} />
            <Fact term="Metrics file" value={target.metricsFile ?? "none"} mono />
            {download && (
              <>
                <dt>Download</dt>
                <dd>
                  <a href={download} download>
                    Download the metrics file
                  </a>
                </dd>
              </>
            )}
            <Fact term="Metrics sha256" value={target.metricsSha256} mono wrap />
            <Fact term="Metrics format" value={doc ? (doc.form === "nested" ? "nested (metrics object)" : "flat (legacy)") : null} />
          </dl>
        </section>
      </div>

      {report ? <InspectionCard report={report} /> : null}

      <section className="card" aria-labelledby="checks-title">
        <div className="card-head">
          <h2 id="checks-title">Readiness for production</h2>
          <span className={`badge ${plan.noop ? "badge-good" : plan.allowed ? "badge-good" : "badge-bad"}`}>
            {plan.noop ? "Already live" : plan.allowed ? "Would pass" : "Would be refused"}
          </span>
        </div>
        <p className="muted">
          Checks a promotion of this version would run now, against production{" "}
          {prod.stem ? <span className="mono">{prod.stem}</span> : "(none)"} and the threshold {fmtMetric(threshold)}.
        </p>
        <ul className="checks">
          {plan.checks.map((c) => {
            const status = c.skipped ? "skipped" : c.passed ? "passed" : "failed";
            const evidence = entriesOf(c.evidence, { fixed: true }).rows;
            return (
              <li key={c.name} className={`check check-${status}`} data-check={c.name}>
                <span className={`badge ${status === "passed" ? "badge-good" : status === "failed" ? "badge-bad" : "badge-muted"}`}>
                  {status === "passed" ? "✓ Passed" : status === "failed" ? "✗ Failed" : "Skipped"}
                </span>
                <div>
                  <div className="check-name">
                    {CHECK_LABEL[c.name]} <code>{c.name}</code>
                    {!c.passed && c.overridable && <span className="muted"> · can be overridden with a reason</span>}
                  </div>
                  <div>{c.detail}</div>
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
          })}
        </ul>
      </section>
    </>
  );
}

function Fact(props: { term: string; value: string | null | undefined; mono?: boolean; wrap?: boolean }) {
  const cls = [props.mono ? "mono" : "", props.wrap ? "wrap" : ""].join(" ").trim();
  return (
    <>
      <dt>{props.term}</dt>
      <dd className={cls || undefined}>{props.value ?? <span className="muted">—</span>}</dd>
    </>
  );
}

/** "N more …" under a bounded table, with the file itself to download. */
function More(props: { count: number; noun: string; testId: string; download: string | null }) {
  if (props.count <= 0) return null;
  return (
    <p className="muted" data-testid={props.testId}>
      {fmtCount(props.count)} more {props.noun} not shown.{" "}
      {props.download && (
        <a href={props.download} download>
          Download the metrics file
        </a>
      )}
    </p>
  );
}
