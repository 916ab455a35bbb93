"use client";

import { createColumnHelper, columnVisibilityFeature, rowPaginationFeature, rowSelectionFeature, rowSortingFeature, tableFeatures } from "@tanstack/react-table";
import Link from "next/link";
import { fmtCount, fmtDelta, fmtMetric, fmtTime } from "@/lib/views/format";
import { versionHref } from "@/lib/views/links";
import type { SortColumn } from "@/lib/views/table-state";
import type { VersionRow } from "@/lib/views/version-rows";
import { useHydrated } from "./use-hydrated";

// The overview table's columns: what each shows and how it is labelled (components/versions-table.tsx renders them).
export const features = tableFeatures({ rowSortingFeature, rowPaginationFeature, columnVisibilityFeature, rowSelectionFeature });
const helper = createColumnHelper<typeof features, VersionRow>();
const UNKNOWN = "unknown";

export const NUMERIC = new Set<string>(["score", "prAuc", "rocAuc", "precisionAt50", "recallAt50", "trainRows", "testRows", "delta"]);

export const LABELS: Record<SortColumn, string> = {
  stem: "Version",
  modelType: "Model type",
  trainedAt: "Trained at (UTC)",
  score: "Score",
  metric: "Metric",
  prAuc: "PR-AUC",
  rocAuc: "ROC-AUC",
  precisionAt50: "P@50",
  recallAt50: "R@50",
  trainRows: "Train rows",
  testRows: "Test rows",
  dataVersion: "Data version",
  gitCommit: "Git commit",
  delta: "Δ vs prod",
};

export const columns = helper.columns([
  helper.display({
    id: "select",
    enableSorting: false,
    enableHiding: false,
    header: () => <span className="sr-only">Select for comparison</span>,
    cell: ({ row }) => (
      <SelectBox stem={row.original.stem} checked={row.getIsSelected()} onChange={row.getToggleSelectedHandler()} />
    ),
  }),
  helper.accessor("stem", {
    header: LABELS.stem,
    enableHiding: false,
    cell: ({ row }) => {
      const r = row.original;
      return (
        <span className="stem-cell">
          <Link href={versionHref(r.stem)} className="mono" prefetch={false}>
            {r.stem}
          </Link>
          {r.isProduction && <span className="badge badge-good">Production</span>}
          {r.isBest && <span className="badge badge-accent">Best</span>}
          {r.metricsError && (
            <span className="badge badge-warn" title={r.metricsError}>
              Broken metrics
            </span>
          )}
          {r.safety && r.safety.verdict !== "safe" && (
            <span className={`badge ${r.safety.verdict === "unsupported" ? "badge-warn" : "badge-bad"}`} title={r.safety.reason}>
              {r.safety.verdict === "unsafe" ? "Unsafe model" : r.safety.verdict === "malformed" ? "Malformed model" : "Unsupported format"}
            </span>
          )}
        </span>
      );
    },
  }),
  helper.accessor("modelType", { header: LABELS.modelType }),
  helper.accessor("trainedAt", { header: LABELS.trainedAt, cell: (c) => fmtTime(c.getValue()).replace(" UTC", "") }),
  helper.accessor("score", {
    header: LABELS.score,
    cell: ({ row }) => <span title={row.original.metric === UNKNOWN ? "no usable score" : row.original.metric}>{fmtMetric(row.original.score)}</span>,
  }),
  helper.accessor("delta", {
    header: LABELS.delta,
    cell: ({ row }) => <DeltaCell row={row.original} />,
  }),
  helper.accessor("metric", {
    header: LABELS.metric,
    // "unknown", the word the CLI and README use for a version without a usable score.
    cell: (c) => (c.getValue() === UNKNOWN ? <span className="muted">{UNKNOWN}</span> : c.getValue()),
  }),
  helper.accessor("prAuc", { header: LABELS.prAuc, cell: (c) => fmtMetric(c.getValue()) }),
  helper.accessor("rocAuc", { header: LABELS.rocAuc, cell: (c) => fmtMetric(c.getValue()) }),
  helper.accessor("precisionAt50", { header: LABELS.precisionAt50, cell: (c) => fmtMetric(c.getValue()) }),
  helper.accessor("recallAt50", { header: LABELS.recallAt50, cell: (c) => fmtMetric(c.getValue()) }),
  helper.accessor("trainRows", { header: LABELS.trainRows, cell: (c) => fmtCount(c.getValue()) }),
  helper.accessor("testRows", { header: LABELS.testRows, cell: (c) => fmtCount(c.getValue()) }),
  helper.accessor("dataVersion", { header: LABELS.dataVersion, cell: (c) => c.getValue() ?? "—" }),
  helper.accessor("gitCommit", {
    header: LABELS.gitCommit,
    cell: (c) => <span className="mono">{c.getValue() ?? "—"}</span>,
  }),
]);

/** A row's tick box for "compare selected", live once the page has hydrated (see useHydrated). */
function SelectBox(props: { stem: string; checked: boolean; onChange: (e: unknown) => void }) {
  const live = useHydrated();
  return (
    <input
      type="checkbox"
      aria-label={`Select ${props.stem} for comparison`}
      checked={props.checked}
      onChange={props.onChange}
      disabled={!live}
    />
  );
}

function DeltaCell({ row }: { row: VersionRow }) {
  if (row.isProduction) return <span className="muted">live</span>;
  if (row.delta === null) return <span className="muted">—</span>;
  const tone = row.delta < 0 ? "delta-bad" : row.delta > 0 ? "delta-good" : "";
  return (
    <span className={tone}>
      {row.delta < 0 && (
        <span aria-hidden="true" className="delta-icon">
          ▼{" "}
        </span>
      )}
      {row.delta > 0 && (
        <span aria-hidden="true" className="delta-icon">
          ▲{" "}
        </span>
      )}
      {fmtDelta(row.delta)}
      {row.delta < 0 && <span className="sr-only"> (regression)</span>}
    </span>
  );
}

