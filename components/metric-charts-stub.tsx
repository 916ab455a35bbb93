import type { ChartData } from "@/lib/views/chart-data";

/** What the server's render of the overview resolves `#metric-charts` to: the charts draw only in the browser. */
export function MetricCharts(_: { data: ChartData; minScore: number }) {
  return null;
}
