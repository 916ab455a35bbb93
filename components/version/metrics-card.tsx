import type { JsonValue, MetricChange } from "@/lib/registry";
import { fmtDelta, fmtMetric } from "@/lib/views/format";
import { clip, type entriesOf, MAX_KEY_CHARS, valueText } from "@/lib/views/json-display";
import { ScrollBox } from "../scroll-box";
import { deltaTone, More } from "./facts";

type Rows = ReturnType<typeof entriesOf>;

/**
 * A version's metrics beside production's (or alone, on production's own page: it would only be compared
 * with itself), then its hyperparameters. Both bounded; the rest is counted and downloadable.
 */
export function MetricsCard(props: {
  changes: readonly MetricChange[];
  omitted: number;
  /** The metrics file's own values, for a metric that is not a number (shown as written). */
  raw: Readonly<Record<string, JsonValue>> | null;
  isProduction: boolean;
  hyper: Rows;
  download: string | null;
}) {
  const { changes, raw, isProduction, hyper, download } = props;
  // A value that is not a number is shown as the file wrote it; a missing one (no file) as a dash.
  const own = (m: MetricChange) => {
    const written = raw?.[m.metric];
    return m.to !== null ? fmtMetric(m.to) : written === undefined || written === null ? "—" : valueText(written);
  };
  return (
    <section className="card" aria-labelledby="metrics-title">
      <h2 id="metrics-title">Metrics</h2>
      {changes.length === 0 || (raw === null && changes.every((m) => m.to === null)) ? (
        <p className="muted">No metrics recorded.</p>
      ) : (
        <ScrollBox label="Metrics">
          <table aria-labelledby="metrics-title">
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col" className="num">
                  This version
                </th>
                {isProduction ? null : (
                  <>
                    <th scope="col" className="num">
                      Production
                    </th>
                    <th scope="col" className="num">
                      Δ
                    </th>
                  </>
                )}
              </tr>
            </thead>
            <tbody>
              {changes.map((m) => (
                <tr key={m.metric}>
                  <th scope="row">{clip(m.metric, MAX_KEY_CHARS)}</th>
                  <td className="num">{own(m)}</td>
                  {isProduction ? null : (
                    <>
                      <td className="num">{fmtMetric(m.from)}</td>
                      <td className={`num ${deltaTone(m.delta)}`}>{fmtDelta(m.delta)}</td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
      <More count={props.omitted} noun="metrics" testId="metrics-more" download={download} />
      <Hyperparameters hyper={hyper} download={download} />
    </section>
  );
}

function Hyperparameters({ hyper, download }: { hyper: Rows; download: string | null }) {
  return (
    <>
      <h2 id="hyper-title" className="section-gap">
        Hyperparameters
      </h2>
      {hyper.rows.length === 0 ? (
        <p className="muted">No hyperparameters recorded.</p>
      ) : (
        <ScrollBox label="Hyperparameters">
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
        </ScrollBox>
      )}
      <More count={hyper.more} noun="hyperparameters" testId="hyperparameters-more" download={download} />
    </>
  );
}
