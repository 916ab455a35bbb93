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

/**
 * Hidden until asked for, so the table fits a laptop screen: the score already is the score metric's value
 * (PR-AUC in the demo), and the rest are details a person opens the version for.
 */
export const DEFAULT_HIDDEN: readonly SortColumn[] = ["metric", "prAuc", "precisionAt50", "recallAt50", "trainRows", "testRows"];
/** The `hide` value meaning "show every column" (an empty list would read as "the default"). */
export const HIDE_NONE = "none";

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
  /** Column ids hidden: DEFAULT_HIDDEN unless the user chose others. */
  hide: SortColumn[];
}

export const DEFAULT_QUERY: TableQuery = {
  sort: "trainedAt",
  dir: "desc",
  q: "",
  type: "",
  page: 1,
  size: 50,
  hide: [...DEFAULT_HIDDEN],
};

const sameColumns = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((c) => b.includes(c));

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
  if (!sameColumns(query.hide, DEFAULT_HIDDEN)) out.set("hide", query.hide.length ? query.hide.join(",") : HIDE_NONE);
  const s = out.toString();
  return s ? `?${s}` : "";
}
