"use client";

import { type ComponentProps, useEffect, useState } from "react";
// package.json "imports": the browser gets the charts; the server's render gets a stub, so recharts never
// loads into the server (its memory is budgeted) for charts it would not draw anyway.
import { MetricCharts as Charts } from "#metric-charts";

/**
 * The charts, drawn in the browser once the page has hydrated. They size themselves to their container, so
 * a server render could only produce empty frames. Their code ships with the page's own scripts (not as a
 * lazy chunk fetched after hydration) and is compiled off the main thread as it arrives (see
 * scripts/compile-hints.mjs): a first visit draws them ~50 ms sooner. The placeholder holds the section's
 * height so nothing jumps.
 */
export function MetricCharts(props: ComponentProps<typeof Charts>) {
  const [mounted, setMounted] = useState(false);
  useEffect(() => setMounted(true), []);
  if (!mounted) {
    return (
      <section className="card charts-loading" aria-busy="true" aria-label="Metrics over time (loading)">
        <h2>Metrics over time</h2>
      </section>
    );
  }
  return <Charts {...props} />;
}
