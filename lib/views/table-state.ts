// The overview table's state as it travels in the URL. No zod here: the table's browser code imports this
// module, and the request parser (with its schema) lives in table-query.ts on the server.
import type { VersionRow } from "./version-rows";

/** Columns the overview table can sort by; the ids double as URL values and table column ids. */
export const SORTABLE_COLUMNS = [
  "stem",
  "modelType",
  "trainedAt",
  "score",
  "metric",
  "prAuc",
  "rocAuc",
  "precisionAt50",
  "recallAt50",
  "trainRows",
  "testRows",
  "dataVersion",
  "gitCommit",
  "delta",
] as const satisfies readonly (keyof VersionRow)[];
export type SortColumn = (typeof SORTABLE_COLUMNS)[number];

export const PAGE_SIZES = [25, 50, 100, 200] as const;

export interface TableQuery {
  sort: SortColumn;
  dir: "asc" | "desc";
  /** Free-text filter, matched case-insensitively against names, commits and data versions. */
  q: string;
  /** Exact model type, or "" for all. */
  type: string;
  /** 1-based, as people read it in the URL. */
  page: number;
  size: number;
  /** Column ids the user chose to hide. */
  hide: SortColumn[];
}

export const DEFAULT_QUERY: TableQuery = {
  sort: "trainedAt",
  dir: "desc",
  q: "",
  type: "",
  page: 1,
  size: 50,
  hide: [],
};

/** Writes the table state as search params, leaving defaults out so shared links stay short. Pure. */
export function tableQueryToSearch(query: TableQuery): string {
  const out = new URLSearchParams();
  if (query.sort !== DEFAULT_QUERY.sort || query.dir !== DEFAULT_QUERY.dir) {
    out.set("sort", query.sort);
    out.set("dir", query.dir);
  }
  if (query.q) out.set("q", query.q);
  if (query.type) out.set("type", query.type);
  if (query.page !== 1) out.set("page", String(query.page));
  if (query.size !== DEFAULT_QUERY.size) out.set("size", String(query.size));
  if (query.hide.length) out.set("hide", query.hide.join(","));
  const s = out.toString();
  return s ? `?${s}` : "";
}
