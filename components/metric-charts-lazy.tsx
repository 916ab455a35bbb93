"use client";

import dynamic from "next/dynamic";

/**
 * The charts, loaded and drawn in the browser only. They size themselves to their container, so a
 * server render could only produce empty frames; skipping it keeps recharts out of the server's memory
 * and its work off every request. The placeholder holds the section's height so nothing jumps.
 */
export const MetricCharts = dynamic(() => import("./metric-charts").then((m) => m.MetricCharts), {
  ssr: false,
  loading: () => (
    <section className="card charts-loading" aria-busy="true" aria-label="Metrics over time (loading)">
      <h2>Metrics over time</h2>
    </section>
  ),
});
