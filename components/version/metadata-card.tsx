import type { LoadedVersion, MetricsDoc } from "@/lib/registry";
import { fmtBytes, fmtCount, fmtMetric, fmtTime } from "@/lib/views/format";
import type { entriesOf } from "@/lib/views/json-display";
import { Fact, More } from "./facts";

/** What the metrics file says about the run, then the files themselves with their hashes. */
export function MetadataCard(props: {
  version: LoadedVersion;
  meta: MetricsDoc["meta"] | undefined;
  form: MetricsDoc["form"] | null;
  extra: ReturnType<typeof entriesOf>;
  download: string | null;
}) {
  const { version: v, meta, extra, download } = props;
  return (
    <section className="card" aria-labelledby="meta-title">
      <h2 id="meta-title">Metadata</h2>
      <dl className="facts">
        {/* The metrics file's model_type names the estimator; "model type" elsewhere is the name's prefix. */}
        <Fact term="Estimator" value={meta?.modelType} />
        <Fact term="Trained at" value={fmtTime(meta?.trainedAt ?? v.timestamp)} />
        <Fact term="Trained by" value={meta?.trainedBy} />
        <Fact term="Git commit" value={meta?.gitCommit} mono />
        <Fact term="Data version" value={meta?.dataVersion} />
        <Fact term="Train rows" value={meta?.trainRows == null ? null : fmtCount(meta.trainRows)} />
        <Fact term="Test rows" value={meta?.testRows == null ? null : fmtCount(meta.testRows)} />
        <Fact term="Churn rate (train)" value={meta?.churnRateTrain == null ? null : fmtMetric(meta.churnRateTrain)} />
        <Fact term="Churn rate (test)" value={meta?.churnRateTest == null ? null : fmtMetric(meta.churnRateTest)} />
        {extra.rows.map(([k, val], i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows are a fixed, ordered projection of the file
          <Fact key={i} term={k} value={val} mono />
        ))}
      </dl>
      <More count={extra.more} noun="other fields" testId="extra-more" download={download} />
      <h2 className="section-gap">Files</h2>
      <dl className="facts">
        <Fact term="Model file" value={v.modelFile} mono />
        <Fact term="Size" value={`${fmtBytes(v.size)} (${fmtCount(v.size)} bytes)`} />
        <Fact term="sha256" value={v.sha256} mono wrap />
        <Fact term="Modified" value={fmtTime(v.modifiedAt)} />
        <Fact term="Metrics file" value={v.metricsFile ?? "none"} mono />
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
        <Fact term="Metrics sha256" value={v.metricsSha256} mono wrap />
        <Fact term="Metrics format" value={props.form ? (props.form === "nested" ? "nested (metrics object)" : "flat (legacy)") : null} />
      </dl>
    </section>
  );
}
