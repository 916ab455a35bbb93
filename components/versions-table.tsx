"use client";

import {
  type ColumnVisibilityState,
  columnVisibilityFeature,
  createColumnHelper,
  functionalUpdate,
  type PaginationState,
  type RowSelectionState,
  rowPaginationFeature,
  rowSelectionFeature,
  rowSortingFeature,
  type SortingState,
  tableFeatures,
  type Updater,
  useTable,
} from "@tanstack/react-table";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, useMemo, useRef, useState, useTransition } from "react";
import { fmtCount, fmtDelta, fmtMetric, fmtTime } from "@/lib/views/format";
import { compareHref, versionHref } from "@/lib/views/links";
import { PAGE_SIZES, SORTABLE_COLUMNS, type SortColumn, type TableQuery, tableQueryToSearch } from "@/lib/views/table-state";
import type { VersionRow } from "@/lib/views/version-rows";

// Sorting, filtering and paging happen on the server (thousands of versions); the table only renders
// the page it is given and turns clicks into URL changes.
const features = tableFeatures({ rowSortingFeature, rowPaginationFeature, columnVisibilityFeature, rowSelectionFeature });
const helper = createColumnHelper<typeof features, VersionRow>();

const NUMERIC = new Set<string>(["score", "prAuc", "rocAuc", "precisionAt50", "recallAt50", "trainRows", "testRows", "delta"]);

const LABELS: Record<SortColumn, string> = {
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

const columns = helper.columns([
  helper.display({
    id: "select",
    enableSorting: false,
    enableHiding: false,
    header: () => <span className="sr-only">Select for comparison</span>,
    cell: ({ row }) => (
      <input
        type="checkbox"
        aria-label={`Select ${row.original.stem} for comparison`}
        checked={row.getIsSelected()}
        onChange={row.getToggleSelectedHandler()}
      />
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
  helper.accessor("score", { header: LABELS.score, cell: (c) => fmtMetric(c.getValue()) }),
  helper.accessor("delta", {
    header: LABELS.delta,
    cell: ({ row }) => <DeltaCell row={row.original} />,
  }),
  helper.accessor("metric", {
    header: LABELS.metric,
    cell: (c) => (c.getValue() === "unknown" ? <span className="muted">none</span> : c.getValue()),
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

export function VersionsTable(props: {
  rows: VersionRow[];
  total: number;
  all: number;
  pageCount: number;
  modelTypes: string[];
  query: TableQuery;
}) {
  const { rows, total, pageCount, query } = props;
  const router = useRouter();
  const pathname = usePathname();
  const [pending, startTransition] = useTransition();
  const [rowSelection, setRowSelection] = useState<RowSelectionState>({});
  const [text, setText] = useState(query.q);

  // Hiding a column needs no server round trip, so it is client state mirrored into the URL.
  const [hidden, setHidden] = useState<SortColumn[]>(query.hide);

  // When the URL changes from outside (back button, a nav link), the local copies follow it; a URL we
  // wrote ourselves from the same text leaves the input alone, so a trailing space being typed survives.
  const [seen, setSeen] = useState({ q: query.q, hide: query.hide.join(",") });
  if (seen.q !== query.q || seen.hide !== query.hide.join(",")) {
    setSeen({ q: query.q, hide: query.hide.join(",") });
    if (query.q !== text.trim()) setText(query.q);
    if (query.hide.join(",") !== seen.hide) setHidden(query.hide);
  }

  const go = (next: Partial<TableQuery>, mode: "push" | "replace" = "push") => {
    const url = `${pathname}${tableQueryToSearch({ ...query, hide: hidden, ...next })}`;
    startTransition(() => (mode === "push" ? router.push(url, { scroll: false }) : router.replace(url, { scroll: false })));
  };

  // Typing should not add a history entry per key, nor a server round trip per key.
  const latest = useRef(go);
  latest.current = go;
  useEffect(() => {
    if (text.trim() === query.q) return;
    const id = setTimeout(() => latest.current({ q: text.trim(), page: 1 }, "replace"), 300);
    return () => clearTimeout(id);
  }, [text, query.q]);

  const sorting = useMemo<SortingState>(() => [{ id: query.sort, desc: query.dir === "desc" }], [query.sort, query.dir]);
  const pagination = useMemo<PaginationState>(() => ({ pageIndex: query.page - 1, pageSize: query.size }), [query.page, query.size]);
  const columnVisibility = useMemo<ColumnVisibilityState>(() => Object.fromEntries(hidden.map((id) => [id, false])), [hidden]);

  const table = useTable({
    features,
    columns,
    data: rows,
    getRowId: (r) => r.stem,
    state: { sorting, pagination, columnVisibility, rowSelection },
    manualSorting: true,
    manualPagination: true,
    rowCount: total,
    enableSortingRemoval: false,
    enableMultiSort: false,
    onSortingChange: (u: Updater<SortingState>) => {
      const s = functionalUpdate(u, sorting)[0];
      if (s && (SORTABLE_COLUMNS as readonly string[]).includes(s.id)) {
        go({ sort: s.id as SortColumn, dir: s.desc ? "desc" : "asc", page: 1 });
      }
    },
    onPaginationChange: (u: Updater<PaginationState>) => {
      const p = functionalUpdate(u, pagination);
      go({ page: p.pageIndex + 1, size: p.pageSize });
    },
    onColumnVisibilityChange: (u: Updater<ColumnVisibilityState>) => {
      const v = functionalUpdate(u, columnVisibility);
      const hide = SORTABLE_COLUMNS.filter((id) => v[id] === false);
      setHidden(hide);
      // Native history keeps Next's router in sync without re-rendering the page on the server.
      window.history.replaceState(null, "", `${pathname}${tableQueryToSearch({ ...query, hide })}`);
    },
    onRowSelectionChange: setRowSelection,
  });

  const selected = Object.keys(rowSelection).filter((k) => rowSelection[k]);
  const compareLink = compareHref(selected);
  const hideable = table.getAllLeafColumns().filter((c) => c.getCanHide());

  return (
    <div className="versions-table">
      <search className="toolbar" aria-label="Filter versions">
        <label className="field">
          <span>Filter</span>
          <input
            type="search"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="name, commit, data version…"
            data-testid="filter-text"
          />
        </label>
        <label className="field">
          <span>Model type</span>
          <select value={query.type} onChange={(e) => go({ type: e.target.value, page: 1 })} data-testid="filter-type">
            <option value="">All types</option>
            {props.modelTypes.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <details className="columns-menu">
          <summary>Columns</summary>
          <fieldset>
            <legend className="sr-only">Visible columns</legend>
            {hideable.map((c) => (
              <label key={c.id} className="check">
                <input type="checkbox" checked={c.getIsVisible()} onChange={c.getToggleVisibilityHandler()} />
                {LABELS[c.id as SortColumn] ?? c.id}
              </label>
            ))}
          </fieldset>
        </details>
        <div className="toolbar-end">
          <span className="muted" aria-live="polite" data-testid="result-count">
            {total === props.all ? `${fmtCount(total)} versions` : `${fmtCount(total)} of ${fmtCount(props.all)} versions`}
          </span>
          {selected.length >= 2 ? (
            <Link className="button button-primary" href={compareLink} data-testid="compare-selected">
              Compare {selected.length} selected
            </Link>
          ) : (
            <span className="button button-disabled" aria-disabled="true" title="Tick two or more versions to compare them">
              Compare selected ({selected.length})
            </span>
          )}
        </div>
      </search>

      <div className="table-scroll">
        <table aria-busy={pending} aria-label="Model versions" className={pending ? "is-pending" : undefined}>
          <thead>
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id}>
                {group.headers.map((header) => {
                  const col = header.column;
                  const sorted = col.getIsSorted();
                  const numeric = NUMERIC.has(col.id);
                  return (
                    <th
                      key={header.id}
                      scope="col"
                      className={numeric ? "num" : undefined}
                      aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined}
                    >
                      {col.getCanSort() ? (
                        <button type="button" className="sort-button" onClick={col.getToggleSortingHandler()}>
                          <table.FlexRender header={header} />
                          <span aria-hidden="true" className="sort-icon">
                            {sorted === "asc" ? "▲" : sorted === "desc" ? "▼" : "↕"}
                          </span>
                        </button>
                      ) : (
                        <table.FlexRender header={header} />
                      )}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody>
            {table.getRowModel().rows.length === 0 && (
              <tr>
                <td colSpan={table.getVisibleLeafColumns().length} className="empty">
                  No versions match these filters.
                </td>
              </tr>
            )}
            {table.getRowModel().rows.map((row) => (
              <tr
                key={row.id}
                data-stem={row.original.stem}
                className={row.original.isProduction ? "row-production" : row.original.isBest ? "row-best" : undefined}
              >
                {row.getVisibleCells().map((cell) => (
                  <td key={cell.id} className={NUMERIC.has(cell.column.id) ? "num" : undefined}>
                    <table.FlexRender cell={cell} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <nav className="pager" aria-label="Pages">
        <label className="field field-inline">
          <span>Rows per page</span>
          <select value={query.size} onChange={(e) => table.setPageSize(Number(e.target.value))}>
            {PAGE_SIZES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <span data-testid="page-status">
          Page {query.page} of {pageCount}
        </span>
        <div className="pager-buttons">
          <button type="button" onClick={() => table.firstPage()} disabled={query.page <= 1}>
            First
          </button>
          <button type="button" onClick={() => table.previousPage()} disabled={query.page <= 1}>
            Previous
          </button>
          <button type="button" onClick={() => table.nextPage()} disabled={query.page >= pageCount}>
            Next
          </button>
          <button type="button" onClick={() => table.lastPage()} disabled={query.page >= pageCount}>
            Last
          </button>
        </div>
      </nav>
    </div>
  );
}
