"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import type { ReactNode } from "react";
import {
  CartesianGrid,
  Legend,
  ReferenceLine,
  Scatter,
  ScatterChart,
  type ScatterShapeProps,
  Tooltip,
  type TooltipContentProps,
  XAxis,
  YAxis,
} from "recharts";
import { type ChartData, type ChartPoint, monthTicks } from "@/lib/views/chart-data";
import { fmtCount, fmtMetric, fmtTime } from "@/lib/views/format";

const PALETTE = ["#2557d6", "#0f8a7e", "#8e44ad", "#c0392b", "#d98e04", "#5d6d7e", "#1f9ed1", "#7b8d1f"];
const PRODUCTION_COLOR = "#16794a";
const BEST_COLOR = "#b8590a";
const CHART_HEIGHT = 260;

type MetricKey = "prAuc" | "rocAuc";

const month = (t: number) => new Date(t).toISOString().slice(0, 7);

/**
 * PR-AUC and ROC-AUC over training time (one series per model type) and PR-AUC vs ROC-AUC, from points
 * the server already thinned. Clicking a point opens its version; a text summary and a table of the
 * highlighted versions stand in for the pictures for screen-reader and keyboard users.
 */
export function MetricCharts({ data, minScore }: { data: ChartData; minScore: number }) {
  const router = useRouter();
  const open = (stem: string) => router.push(`/versions/${stem}`);

  if (data.plotted === 0) {
    return (
      <section className="card" aria-labelledby="charts-title">
        <h2 id="charts-title">Metrics over time</h2>
        <p className="muted">No version has PR-AUC or ROC-AUC to plot yet.</p>
      </section>
    );
  }

  const highlights = [
    data.production && { ...data.production, role: "Production" },
    data.best && data.best.stem !== data.production?.stem && { ...data.best, role: "Best candidate" },
  ].filter((p): p is ChartPoint & { role: string } => Boolean(p));

  const summary = `${fmtCount(data.plotted)} versions in ${data.series.length} model type${data.series.length === 1 ? "" : "s"}${
    data.shown < data.plotted ? `, ${data.shown} shown after downsampling` : ""
  }. ${highlights.map((h) => `${h.role}: ${h.stem}, PR-AUC ${fmtMetric(h.prAuc)}, ROC-AUC ${fmtMetric(h.rocAuc)}.`).join(" ")} Release threshold ${fmtMetric(minScore)}.`;

  return (
    <section className="card" aria-labelledby="charts-title">
      <div className="card-head">
        <h2 id="charts-title">Metrics over time</h2>
        <span className="muted">
          {data.shown < data.plotted
            ? `${fmtCount(data.shown)} of ${fmtCount(data.plotted)} points shown (downsampled; production, best and extremes kept)`
            : "Click a point to open its version"}
        </span>
      </div>
      <p className="sr-only" data-testid="chart-summary">
        {summary}
      </p>
      <div className="charts">
        <ChartFrame title="PR-AUC over training time">
          <TimeChart data={data} metric="prAuc" onOpen={open} threshold={minScore} />
        </ChartFrame>
        <ChartFrame title="ROC-AUC over training time">
          <TimeChart data={data} metric="rocAuc" onOpen={open} />
        </ChartFrame>
        <ChartFrame title="PR-AUC vs ROC-AUC">
          <ScatterChart responsive style={{ width: "100%", height: CHART_HEIGHT }} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid stroke="#e6e9ee" />
            <XAxis type="number" dataKey="rocAuc" name="ROC-AUC" domain={["auto", "auto"]} tickFormatter={(v: number) => v.toFixed(2)} />
            <YAxis
              type="number"
              dataKey="prAuc"
              name="PR-AUC"
              domain={["auto", "auto"]}
              tickFormatter={(v: number) => v.toFixed(2)}
              width={44}
            />
            <Tooltip content={PointTooltip} />
            {data.series.map((s, i) => (
              <Scatter
                key={s.modelType}
                name={s.modelType}
                data={s.points}
                fill={PALETTE[i % PALETTE.length]}
                isAnimationActive={false}
                shape={(p: ScatterShapeProps) => <Point p={p} onOpen={open} />}
              />
            ))}
            <HighlightSeries data={data} onOpen={open} />
            <Legend />
          </ScatterChart>
        </ChartFrame>
      </div>
      <details className="chart-table">
        <summary>Highlighted versions as a table</summary>
        <table>
          <caption className="sr-only">Production and best candidate</caption>
          <thead>
            <tr>
              <th scope="col">Role</th>
              <th scope="col">Version</th>
              <th scope="col">Trained at</th>
              <th scope="col" className="num">
                PR-AUC
              </th>
              <th scope="col" className="num">
                ROC-AUC
              </th>
            </tr>
          </thead>
          <tbody>
            {highlights.map((h) => (
              <tr key={h.role}>
                <td>{h.role}</td>
                <td>
                  <Link href={`/versions/${h.stem}`} className="mono" prefetch={false}>
                    {h.stem}
                  </Link>
                </td>
                <td>{fmtTime(new Date(h.t).toISOString())}</td>
                <td className="num">{fmtMetric(h.prAuc)}</td>
                <td className="num">{fmtMetric(h.rocAuc)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}

function ChartFrame({ title, children }: { title: string; children: ReactNode }) {
  return (
    <figure className="chart" aria-hidden="false">
      <figcaption>{title}</figcaption>
      {/* Fixed height reserved before the chart measures itself, so nothing below it jumps. */}
      <div className="chart-frame" style={{ height: CHART_HEIGHT }}>
        {children}
      </div>
    </figure>
  );
}

function TimeChart(props: { data: ChartData; metric: MetricKey; onOpen: (stem: string) => void; threshold?: number }) {
  const { data, metric, onOpen, threshold } = props;
  const times = data.series.flatMap((s) => s.points.map((p) => p.t));
  const ticks = monthTicks(Math.min(...times), Math.max(...times));
  return (
    <ScatterChart responsive style={{ width: "100%", height: CHART_HEIGHT }} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
      <CartesianGrid stroke="#e6e9ee" />
      <XAxis type="number" dataKey="t" name="Trained at" domain={["dataMin", "dataMax"]} scale="time" ticks={ticks} tickFormatter={month} />
      <YAxis type="number" dataKey={metric} domain={["auto", "auto"]} tickFormatter={(v: number) => v.toFixed(2)} width={44} />
      <Tooltip content={PointTooltip} />
      {threshold !== undefined && (
        <ReferenceLine
          y={threshold}
          stroke="#b42318"
          strokeDasharray="5 4"
          ifOverflow="extendDomain"
          label={{ value: `threshold ${threshold.toFixed(2)}`, position: "insideBottomRight", fill: "#b42318", fontSize: 11 }}
        />
      )}
      {data.series.map((s, i) => (
        <Scatter
          key={s.modelType}
          name={s.modelType}
          data={s.points.filter((p) => p[metric] !== null)}
          fill={PALETTE[i % PALETTE.length]}
          line={{ stroke: PALETTE[i % PALETTE.length], strokeOpacity: 0.35 }}
          isAnimationActive={false}
          shape={(p: ScatterShapeProps) => <Point p={p} onOpen={onOpen} />}
        />
      ))}
      <HighlightSeries data={data} onOpen={onOpen} metric={metric} />
    </ScatterChart>
  );
}

/** Production and best drawn again on top, larger and ringed, so they stand out among thousands. */
function HighlightSeries({ data, onOpen, metric }: { data: ChartData; onOpen: (stem: string) => void; metric?: MetricKey }) {
  const usable = (p: ChartPoint | null): p is ChartPoint =>
    p !== null && (metric ? p[metric] !== null : p.prAuc !== null && p.rocAuc !== null);
  return (
    <>
      {usable(data.best) && data.best.stem !== data.production?.stem && (
        <Scatter
          name="Best candidate"
          data={[data.best]}
          fill={BEST_COLOR}
          isAnimationActive={false}
          shape={(p: ScatterShapeProps) => <Point p={p} onOpen={onOpen} r={7} ring={BEST_COLOR} />}
        />
      )}
      {usable(data.production) && (
        <Scatter
          name="Production"
          data={[data.production]}
          fill={PRODUCTION_COLOR}
          isAnimationActive={false}
          shape={(p: ScatterShapeProps) => <Point p={p} onOpen={onOpen} r={7} ring={PRODUCTION_COLOR} />}
        />
      )}
    </>
  );
}

function Point({ p, onOpen, r = 4, ring }: { p: ScatterShapeProps; onOpen: (stem: string) => void; r?: number; ring?: string }) {
  const point = p.payload as ChartPoint | undefined;
  if (p.cx === undefined || p.cy === undefined || !point) return <g />;
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a pointer shortcut only; keyboard users reach every version through the versions table and the highlighted-versions table.
    <g className="chart-point" data-stem={point.stem} onClick={() => onOpen(point.stem)} style={{ cursor: "pointer" }}>
      {ring && <circle cx={p.cx} cy={p.cy} r={r + 3} fill="none" stroke={ring} strokeWidth={2} />}
      <circle cx={p.cx} cy={p.cy} r={r} fill={(p as { fill?: string }).fill} stroke="#fff" strokeWidth={1} />
    </g>
  );
}

function PointTooltip(props: TooltipContentProps) {
  const point = props.payload?.[0]?.payload as ChartPoint | undefined;
  if (!props.active || !point) return null;
  return (
    <div className="chart-tooltip">
      <div className="mono">
        <strong>{point.stem}</strong>
      </div>
      <div>
        {point.modelType} · {fmtTime(new Date(point.t).toISOString())}
      </div>
      <div className="num">
        PR-AUC {fmtMetric(point.prAuc)} · ROC-AUC {fmtMetric(point.rocAuc)}
      </div>
      {point.isProduction && <div className="tooltip-tag">Production</div>}
      {point.isBest && <div className="tooltip-tag">Best candidate</div>}
      <div className="muted">Click to open</div>
    </div>
  );
}
