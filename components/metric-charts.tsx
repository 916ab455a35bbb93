"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { createContext, type ReactNode, useContext, useState } from "react";
import { CartesianGrid, ReferenceLine, Scatter, ScatterChart, usePlotArea, useXAxisScale, useYAxisScale, XAxis, YAxis } from "recharts";
import { type ChartData, type ChartPoint, metricDomain, metricTicks, monthTicks, timeDomain } from "@/lib/views/chart-data";
import { fmtCount, fmtMetric, fmtTime } from "@/lib/views/format";
import { versionHref } from "@/lib/views/links";
import { ScrollBox } from "./scroll-box";

const PALETTE = ["#2557d6", "#0f8a7e", "#8e44ad", "#c0392b", "#d98e04", "#5d6d7e", "#1f9ed1", "#7b8d1f"];
const PRODUCTION_COLOR = "#16794a";
const BEST_COLOR = "#b8590a";
const THRESHOLD_COLOR = "#b42318";
const METRIC_TITLE = { prAuc: "PR-AUC", rocAuc: "ROC-AUC" } as const;
const CHART_HEIGHT = 320;

type MetricKey = "prAuc" | "rocAuc";

const month = (t: number) => new Date(t).toISOString().slice(0, 7);

/**
 * PR-AUC and ROC-AUC over training time (one series per model type) and PR-AUC vs ROC-AUC, from points
 * the server already thinned. Clicking a point opens its version; a text summary and a table of the
 * highlighted versions stand in for the pictures for screen-reader and keyboard users.
 */
export function MetricCharts({ data, minScore }: { data: ChartData; minScore: number }) {
  const router = useRouter();
  const open = (stem: string) => router.push(versionHref(stem));

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
          <VersusChart data={data} onOpen={open} threshold={minScore} />
        </ChartFrame>
      </div>
      <ChartLegend data={data} threshold={minScore} />
      <HighlightsTable highlights={highlights} />
    </section>
  );
}

/** Production and the best candidate as a table: the charts' key facts for keyboard and screen-reader users. */
function HighlightsTable({ highlights }: { highlights: (ChartPoint & { role: string })[] }) {
  return (
    <details className="chart-table">
      <summary>Highlighted versions as a table</summary>
      <ScrollBox label="Highlighted versions">
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
                  <Link href={versionHref(h.stem)} className="mono" prefetch={false}>
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
      </ScrollBox>
    </details>
  );
}

/** A point under the pointer, where it is drawn in its chart (SVG and frame coordinates agree). */
interface Hover {
  point: ChartPoint;
  cx: number;
  cy: number;
  /** Show the tooltip left of the point (there is no room for it on the right). */
  flip: boolean;
}

const HoverContext = createContext<(hover: Hover | null) => void>(() => {});

function ChartFrame({ title, children }: { title: string; children: ReactNode }) {
  const [hover, setHover] = useState<Hover | null>(null);
  return (
    <figure className="chart" aria-hidden="false">
      <figcaption>{title}</figcaption>
      {/* Fixed height reserved before the chart measures itself, so nothing below it jumps; raised above the
          next chart while it shows a tooltip (each frame is its own stacking context). */}
      <div className="chart-frame" style={{ height: CHART_HEIGHT, zIndex: hover ? 3 : undefined }}>
        <HoverContext.Provider value={setHover}>{children}</HoverContext.Provider>
        {hover && (
          <div
            className="chart-tooltip-at"
            style={{
              top: Math.min(Math.max(0, hover.cy - 20), CHART_HEIGHT - TOOLTIP_HEIGHT),
              ...(hover.flip ? { right: `calc(100% - ${hover.cx - 12}px)` } : { left: hover.cx + 12 }),
            }}
          >
            <PointTooltip point={hover.point} />
          </div>
        )}
      </div>
    </figure>
  );
}

/** What a chart plots on each axis: a point's training time or one of its metrics. */
type Field = "t" | MetricKey;

// Room below and left of the plot for the axis titles.
const CHART_MARGIN = { top: 8, right: 16, bottom: 22, left: 20 };
const AXIS_TITLE = { fill: "#59626e", fontSize: 12 };
/** About the height of a tooltip (five lines), so it stays inside the plot near its lower edge. */
const TOOLTIP_HEIGHT = 120;
/** About the width of a tooltip with a long version name. */
const TOOLTIP_WIDTH = 250;
const fmtTick = (v: number) => v.toFixed(2);

function TimeChart(props: { data: ChartData; metric: MetricKey; onOpen: (stem: string) => void; threshold?: number }) {
  const { data, metric, onOpen, threshold } = props;
  const times = data.series.flatMap((s) => s.points.map((p) => p.t));
  // A day either side of a single instant, so one version (or several trained at once) has a time axis.
  const [first, last] = [Math.min(...times), Math.max(...times)];
  // Padded, so the first and last versions are not drawn on the plot's edges.
  const xDomain = timeDomain(first, last);
  // Four labels fit even a phone-width chart, so every tick is drawn (interval 0) and recharts measures none.
  const ticks = monthTicks(first, last, 4);
  const domain = metricDomain(
    data.series.flatMap((s) => s.points.map((p) => p[metric])),
    threshold === undefined ? [] : [threshold],
  );
  return (
    <ScatterChart responsive style={{ width: "100%", height: CHART_HEIGHT }} margin={CHART_MARGIN}>
      <CartesianGrid stroke="#e6e9ee" />
      <XAxis
        type="number"
        dataKey="t"
        name="Trained at"
        domain={xDomain}
        scale="time"
        ticks={ticks}
        interval={0}
        tickFormatter={month}
        label={{ value: "Trained at (month, UTC)", position: "insideBottom", offset: -16, ...AXIS_TITLE }}
      />
      <YAxis
        type="number"
        dataKey={metric}
        domain={domain}
        ticks={metricTicks(domain)}
        interval={0}
        tickFormatter={fmtTick}
        width={44}
        label={{ value: METRIC_TITLE[metric], angle: -90, position: "insideLeft", offset: -10, ...AXIS_TITLE }}
      />
      {/* Named in the legend, not on the line, where a point could cover its label. */}
      {threshold !== undefined && <ReferenceLine y={threshold} stroke={THRESHOLD_COLOR} strokeDasharray="5 4" />}
      <Frame x="t" y={metric} xDomain={xDomain} yDomain={domain} />
      <Points data={data} x="t" y={metric} lines onOpen={onOpen} />
    </ScatterChart>
  );
}

function VersusChart({ data, onOpen, threshold }: { data: ChartData; onOpen: (stem: string) => void; threshold: number }) {
  const all = data.series.flatMap((s) => s.points);
  const xDomain = metricDomain(all.map((p) => p.rocAuc));
  const yDomain = metricDomain(
    all.map((p) => p.prAuc),
    [threshold],
  );
  return (
    <ScatterChart responsive style={{ width: "100%", height: CHART_HEIGHT }} margin={CHART_MARGIN}>
      <CartesianGrid stroke="#e6e9ee" />
      <XAxis
        type="number"
        dataKey="rocAuc"
        name="ROC-AUC"
        domain={xDomain}
        ticks={metricTicks(xDomain)}
        interval={0}
        tickFormatter={fmtTick}
        label={{ value: "ROC-AUC", position: "insideBottom", offset: -16, ...AXIS_TITLE }}
      />
      <YAxis
        type="number"
        dataKey="prAuc"
        name="PR-AUC"
        domain={yDomain}
        ticks={metricTicks(yDomain)}
        interval={0}
        tickFormatter={fmtTick}
        width={44}
        label={{ value: "PR-AUC", angle: -90, position: "insideLeft", offset: -10, ...AXIS_TITLE }}
      />
      <ReferenceLine y={threshold} stroke={THRESHOLD_COLOR} strokeDasharray="5 4" />
      <Frame x="rocAuc" y="prAuc" xDomain={xDomain} yDomain={yDomain} />
      <Points data={data} x="rocAuc" y="prAuc" onOpen={onOpen} />
    </ScatterChart>
  );
}

/**
 * Two invisible points at opposite corners of the axes' ranges: recharts sets up axes (and their scales,
 * which Points uses) only for data some graphical item plots.
 */
function Frame({ x, y, xDomain, yDomain }: { x: Field; y: Field; xDomain: [number, number]; yDomain: [number, number] }) {
  const corners = [
    { [x]: xDomain[0], [y]: yDomain[0] },
    { [x]: xDomain[1], [y]: yDomain[1] },
  ];
  return <Scatter data={corners} shape={Nothing} isAnimationActive={false} legendType="none" tooltipType="none" />;
}

const Nothing = () => <g />;

/**
 * Every point of a chart as plain SVG in one layer, placed with the chart's own axis scales: drawn
 * through recharts' Scatter, each point was half a dozen components and a store subscription, and the
 * three charts kept the browser busy for ~200 ms after load at 200 points each. Production and best are
 * drawn again on top, larger and ringed. One click and one hover handler serve the whole layer.
 */
function Points(props: { data: ChartData; x: Field; y: Field; lines?: boolean; onOpen: (stem: string) => void }) {
  const { data, x, y, lines, onOpen } = props;
  const xScale = useXAxisScale();
  const yScale = useYAxisScale();
  const plot = usePlotArea();
  const setHover = useContext(HoverContext);
  if (!xScale || !yScale || !plot) return null;
  const place = (p: ChartPoint) => {
    const [vx, vy] = [p[x], p[y]];
    if (vx === null || vy === null) return null;
    const cx = xScale(vx);
    const cy = yScale(vy);
    return cx === undefined || cy === undefined ? null : { cx, cy };
  };
  const byStem = new Map<string, ChartPoint>();
  const pointAt = (target: EventTarget | null) => {
    const stem = (target as Element | null)?.closest?.("[data-stem]")?.getAttribute("data-stem");
    return stem ? byStem.get(stem) : undefined;
  };
  const series = data.series.map((s, i) => {
    const color = PALETTE[i % PALETTE.length] as string;
    const placed = s.points.flatMap((p) => {
      const at = place(p);
      if (!at) return [];
      byStem.set(p.stem, p);
      return [{ p, ...at }];
    });
    return { modelType: s.modelType, color, placed };
  });
  const rings = [
    data.best && data.best.stem !== data.production?.stem ? { p: data.best, color: BEST_COLOR } : null,
    data.production ? { p: data.production, color: PRODUCTION_COLOR } : null,
  ].flatMap((h) => {
    const at = h && place(h.p);
    if (h && at) byStem.set(h.p.stem, h.p);
    return h && at ? [{ ...h, ...at }] : [];
  });
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions lint/a11y/useKeyWithMouseEvents: a pointer shortcut only (hundreds of points are no place for tab stops); keyboard and screen-reader users reach every version through the versions table, the chart summary and the highlighted-versions table.
    <g
      className="chart-points"
      onClick={(e) => {
        const p = pointAt(e.target);
        if (p) onOpen(p.stem);
      }}
      onMouseOver={(e) => {
        const p = pointAt(e.target);
        const at = p && place(p);
        // Right of the point unless it only fits on the left (the chart is the plot plus its right margin).
        const room = plot.x + plot.width + CHART_MARGIN.right - (at?.cx ?? 0);
        setHover(p && at ? { point: p, ...at, flip: room < TOOLTIP_WIDTH && at.cx > TOOLTIP_WIDTH } : null);
      }}
      onMouseLeave={() => setHover(null)}
    >
      {series.map((s) => (
        <g key={s.modelType} fill={s.color}>
          {lines && s.placed.length > 1 && (
            <polyline
              points={s.placed.map((q) => `${q.cx},${q.cy}`).join(" ")}
              fill="none"
              stroke={s.color}
              strokeOpacity={0.35}
              pointerEvents="none"
            />
          )}
          {s.placed.map((q) => (
            <circle key={q.p.stem} className="chart-point" data-stem={q.p.stem} cx={q.cx} cy={q.cy} r={4} stroke="#fff" strokeWidth={1} />
          ))}
        </g>
      ))}
      {rings.map((h) => (
        <g key={`ring-${h.p.stem}`} className="chart-point" data-stem={h.p.stem}>
          <circle cx={h.cx} cy={h.cy} r={10} fill="none" stroke={h.color} strokeWidth={2} />
          <circle cx={h.cx} cy={h.cy} r={7} fill={h.color} stroke="#fff" strokeWidth={1} />
        </g>
      ))}
    </g>
  );
}

function PointTooltip({ point }: { point: ChartPoint }) {
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

/** The colours of the model types and of the two highlighted versions, once for the three charts. */
function ChartLegend({ data, threshold }: { data: ChartData; threshold: number }) {
  return (
    <ul className="chart-legend">
      {data.series.map((s, i) => (
        <li key={s.modelType}>
          <span className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} aria-hidden="true" />
          {s.modelType}
        </li>
      ))}
      {data.production && (
        <li>
          <span className="swatch ring" style={{ background: PRODUCTION_COLOR, color: PRODUCTION_COLOR }} aria-hidden="true" />
          Production
        </li>
      )}
      {data.best && data.best.stem !== data.production?.stem && (
        <li>
          <span className="swatch ring" style={{ background: BEST_COLOR, color: BEST_COLOR }} aria-hidden="true" />
          Best candidate
        </li>
      )}
      <li>
        <span className="swatch-line" style={{ borderColor: THRESHOLD_COLOR }} aria-hidden="true" />
        Release threshold {fmtMetric(threshold)} (dashed, on PR-AUC)
      </li>
    </ul>
  );
}
