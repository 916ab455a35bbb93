import type { ComponentProps } from "react";
// A type-only import: erased from the build, so the server still never loads the charts' code.
import type { MetricCharts as Charts } from "./metric-charts";

/** What the server's render of the overview resolves `#metric-charts` to: the charts draw only in the browser. */
export function MetricCharts(_: ComponentProps<typeof Charts>) {
  return null;
}
