import { z } from "zod";
import { DEFAULT_QUERY, PAGE_SIZES, SORTABLE_COLUMNS, type SortColumn, type TableQuery } from "./table-state";
import type { VersionRow } from "./version-rows";

// Each field falls back on its own, so one bad parameter in a shared link never discards the rest.
const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);
const field = <T extends z.ZodType>(schema: T, fallback: z.output<T>) => z.preprocess(first, schema).catch(fallback);

const querySchema = z.object({
  sort: field(z.enum(SORTABLE_COLUMNS), DEFAULT_QUERY.sort),
  dir: field(z.enum(["asc", "desc"]), DEFAULT_QUERY.dir),
  q: field(z.string().trim().max(200), ""),
  type: field(z.string().trim().max(200), ""),
  page: field(z.coerce.number().int().min(1).max(1_000_000), 1),
  size: field(
    z.coerce.number().refine((n) => (PAGE_SIZES as readonly number[]).includes(n)),
    DEFAULT_QUERY.size,
  ),
  hide: field(
    z.string().transform((s) => s.split(",").filter((c): c is SortColumn => (SORTABLE_COLUMNS as readonly string[]).includes(c))),
    DEFAULT_QUERY.hide,
  ),
});

/** Reads the table state from a request's search params; anything malformed falls back to its default. Pure. */
export function parseTableQuery(params: Record<string, string | string[] | undefined>): TableQuery {
  return querySchema.parse(params) as TableQuery;
}

export interface TablePage {
  rows: VersionRow[];
  /** Rows matching the filters, across all pages. */
  total: number;
  pageCount: number;
  /** The page actually shown: a page past the end is clamped to the last one. */
  page: number;
  /** Every model type in the registry, for the filter's options. */
  modelTypes: string[];
}

/** Filters, sorts and slices the rows for one page of the table. Pure; missing values sort last both ways. */
export function queryRows(all: readonly VersionRow[], query: TableQuery): TablePage {
  const modelTypes = [...new Set(all.map((r) => r.modelType))].sort();
  const needle = query.q.toLowerCase();
  const filtered = all.filter(
    (r) =>
      (!query.type || r.modelType === query.type) &&
      (!needle || [r.stem, r.modelType, r.metric, r.gitCommit, r.dataVersion, r.trainedBy].some((s) => s?.toLowerCase().includes(needle))),
  );
  const sign = query.dir === "asc" ? 1 : -1;
  const key = query.sort;
  const sorted = filtered.sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === null || y === null) {
      if (x === y) return a.stem.localeCompare(b.stem);
      return x === null ? 1 : -1;
    }
    const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    // Ties fall back to the name so a page never reshuffles between loads.
    return c !== 0 ? sign * c : a.stem.localeCompare(b.stem);
  });
  const pageCount = Math.max(1, Math.ceil(sorted.length / query.size));
  const page = Math.min(query.page, pageCount);
  const start = (page - 1) * query.size;
  return { rows: sorted.slice(start, start + query.size), total: sorted.length, pageCount, page, modelTypes };
}
