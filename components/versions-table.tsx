"use client";

import {
  type ColumnVisibilityState,
  functionalUpdate,
  type PaginationState,
  type ReactTable,
  type RowSelectionState,
  type SortingState,
  type Updater,
  useTable,
} from "@tanstack/react-table";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, useMemo, useRef, useState, useTransition } from "react";
import { fmtCount } from "@/lib/views/format";
import { compareHref } from "@/lib/views/links";
import { PAGE_SIZES, SORTABLE_COLUMNS, type SortColumn, type TableQuery, tableQueryToSearch } from "@/lib/views/table-state";
import type { VersionRow } from "@/lib/views/version-rows";
import { ScrollBox } from "./scroll-box";
import { useHydrated } from "./use-hydrated";
import { columns, features, LABELS, NUMERIC } from "./versions-table-columns";

// Sorting, filtering and paging happen on the server (thousands of versions); the table only renders
// the page it is given and turns clicks into URL changes.
type Table = ReactTable<typeof features, VersionRow>;
type Props = { rows: VersionRow[]; total: number; all: number; pageCount: number; modelTypes: string[]; query: TableQuery };
type Go = (next: Partial<TableQuery>, mode?: "push" | "replace") => void;

/** The URL-backed state: the filter text as typed, the hidden columns, and navigation to a new query. */
function useTableUrl(query: TableQuery) {
  const router = useRouter();
  const pathname = usePathname();
  const [pending, startTransition] = useTransition();
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

  const go: Go = (next, mode = "push") => {
    const url = `${pathname}${tableQueryToSearch({ ...query, hide: hidden, ...next })}`;
    startTransition(() => (mode === "push" ? router.push(url, { scroll: false }) : router.replace(url, { scroll: false })));
  };
  const hide = (columns: SortColumn[]) => {
    setHidden(columns);
    // Native history keeps Next's router in sync without re-rendering the page on the server.
    window.history.replaceState(null, "", `${pathname}${tableQueryToSearch({ ...query, hide: columns })}`);
  };

  // Typing should not add a history entry per key, nor a server round trip per key.
  const latest = useRef(go);
  latest.current = go;
  useEffect(() => {
    if (text.trim() === query.q) return;
    const id = setTimeout(() => latest.current({ q: text.trim(), page: 1 }, "replace"), 300);
    return () => clearTimeout(id);
  }, [text, query.q]);

  // Until the script runs, every control here would do nothing: they are disabled until then.
  const live = useHydrated();
  return { pending, text, setText, hidden, hide, go, live };
}

function useVersionsTable(
  props: Props,
  url: ReturnType<typeof useTableUrl>,
  [rowSelection, setRowSelection]: [RowSelectionState, (u: Updater<RowSelectionState>) => void],
) {
  const { query, rows, total } = props;
  const sorting = useMemo<SortingState>(() => [{ id: query.sort, desc: query.dir === "desc" }], [query.sort, query.dir]);
  const pagination = useMemo<PaginationState>(() => ({ pageIndex: query.page - 1, pageSize: query.size }), [query.page, query.size]);
  const columnVisibility = useMemo<ColumnVisibilityState>(() => Object.fromEntries(url.hidden.map((id) => [id, false])), [url.hidden]);
  return useTable({
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
        url.go({ sort: s.id as SortColumn, dir: s.desc ? "desc" : "asc", page: 1 });
      }
    },
    onPaginationChange: (u: Updater<PaginationState>) => {
      const p = functionalUpdate(u, pagination);
      url.go({ page: p.pageIndex + 1, size: p.pageSize });
    },
    onColumnVisibilityChange: (u: Updater<ColumnVisibilityState>) => {
      const v = functionalUpdate(u, columnVisibility);
      url.hide(SORTABLE_COLUMNS.filter((id) => v[id] === false));
    },
    onRowSelectionChange: setRowSelection,
  });
}

export function VersionsTable(props: Props) {
  const url = useTableUrl(props.query);
  const selection = useState<RowSelectionState>({});
  const table = useVersionsTable(props, url, selection);
  const selected = Object.keys(selection[0]).filter((k) => selection[0][k]);
  return (
    <div className="versions-table" data-hydrated={url.live}>
      <Toolbar {...props} table={table} text={url.text} setText={url.setText} go={url.go} selected={selected} live={url.live} />
      <ScrollBox label="Model versions">
        <table aria-busy={url.pending} aria-label="Model versions" className={url.pending ? "is-pending" : undefined}>
          <TableHead table={table} live={url.live} />
          <TableBody table={table} />
        </table>
      </ScrollBox>
      <Pager table={table} query={props.query} pageCount={props.pageCount} live={url.live} />
    </div>
  );
}

function Toolbar(props: Props & { table: Table; text: string; setText: (t: string) => void; go: Go; selected: string[]; live: boolean }) {
  const { table, total, selected, go, live } = props;
  const hideable = table.getAllLeafColumns().filter((c) => c.getCanHide());
  return (
    <search className="toolbar" aria-label="Filter versions">
      <label className="field">
        <span>Filter</span>
        <input
          type="search"
          value={props.text}
          onChange={(e) => props.setText(e.target.value)}
          disabled={!live}
          placeholder="name, commit, data version…"
          data-testid="filter-text"
        />
      </label>
      <label className="field">
        <span>Model type</span>
        <select
          value={props.query.type}
          onChange={(e) => go({ type: e.target.value, page: 1 })}
          data-testid="filter-type"
          disabled={!live}
        >
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
            <label key={c.id} className="column-choice">
              <input type="checkbox" checked={c.getIsVisible()} onChange={c.getToggleVisibilityHandler()} disabled={!live} />
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
          <Link className="button button-primary" href={compareHref(selected)} data-testid="compare-selected">
            Compare {selected.length} selected
          </Link>
        ) : (
          <span className="button button-disabled" aria-disabled="true" title="Tick two or more versions to compare them">
            Compare selected ({selected.length})
          </span>
        )}
      </div>
    </search>
  );
}

function TableHead({ table, live }: { table: Table; live: boolean }) {
  return (
    <thead>
      {table.getHeaderGroups().map((group) => (
        <tr key={group.id}>
          {group.headers.map((header) => {
            const col = header.column;
            const sorted = col.getIsSorted();
            return (
              <th
                key={header.id}
                scope="col"
                className={NUMERIC.has(col.id) ? "num" : undefined}
                aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined}
              >
                {col.getCanSort() ? (
                  <button type="button" className="sort-button" onClick={col.getToggleSortingHandler()} disabled={!live}>
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
  );
}

function TableBody({ table }: { table: Table }) {
  const rows = table.getRowModel().rows;
  return (
    <tbody>
      {rows.length === 0 && (
        <tr>
          <td colSpan={table.getVisibleLeafColumns().length} className="empty">
            No versions match these filters.
          </td>
        </tr>
      )}
      {rows.map((row) => (
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
  );
}

function Pager({ table, query, pageCount, live }: { table: Table; query: TableQuery; pageCount: number; live: boolean }) {
  return (
    <nav className="pager" aria-label="Pages">
      <label className="field field-inline">
        <span>Rows per page</span>
        <select value={query.size} onChange={(e) => table.setPageSize(Number(e.target.value))} disabled={!live}>
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
        <button type="button" onClick={() => table.firstPage()} disabled={!live || query.page <= 1}>
          First
        </button>
        <button type="button" onClick={() => table.previousPage()} disabled={!live || query.page <= 1}>
          Previous
        </button>
        <button type="button" onClick={() => table.nextPage()} disabled={!live || query.page >= pageCount}>
          Next
        </button>
        <button type="button" onClick={() => table.lastPage()} disabled={!live || query.page >= pageCount}>
          Last
        </button>
      </div>
    </nav>
  );
}
