import type { VersionRow } from "@/lib/views/version-rows";

// The cursors of GET /versions: where the last page ended, as that row's sort value and name, so the next
// page starts after that row wherever it now stands. An offset skipped or repeated versions whenever
// versions were written between two pages (training jobs write continuously); a key cannot. Opaque to
// clients: base64url of a small JSON array.

export const VERSION_SORTS = ["stem", "modelType", "trainedAt", "score", "metric"] as const;
export type VersionSort = (typeof VERSION_SORTS)[number];
export type SortDir = "asc" | "desc";
type SortValue = string | number | null;

/** Continue after the row with this sort value and name; or, for a cursor given out before keys, at a position. */
export type VersionCursor =
  | { kind: "after"; sort: VersionSort; dir: SortDir; value: SortValue; stem: string }
  | { kind: "offset"; offset: number };

/** What a cursor may look like on the wire: base64url, or the plain numbers handed out before. */
export const CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,1400}$/;
const OFFSET = /^\d{1,9}$/;

/** The cursor that continues after `row` in the order `sort`/`dir`. Pure. */
export function encodeVersionCursor(sort: VersionSort, dir: SortDir, row: Pick<VersionRow, VersionSort>): string {
  return Buffer.from(JSON.stringify([sort, dir, row[sort], row.stem])).toString("base64url");
}

/**
 * Reads a cursor this API gave out: a key, or a plain number (an offset, as cursors were before keys: still
 * read, though it may skip or repeat versions written meanwhile). Null for anything else. Pure.
 */
export function decodeVersionCursor(text: string): VersionCursor | null {
  if (OFFSET.test(text)) return { kind: "offset", offset: Number(text) };
  if (!CURSOR_PATTERN.test(text)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) return null;
  const [sort, dir, value, stem] = parsed as unknown[];
  if (!(VERSION_SORTS as readonly unknown[]).includes(sort) || (dir !== "asc" && dir !== "desc")) return null;
  if (typeof stem !== "string" || stem.length === 0 || stem.length > 250) return null;
  const numeric = sort === "score";
  const valueOk = value === null || (numeric ? typeof value === "number" && Number.isFinite(value) : typeof value === "string");
  if (!valueOk) return null;
  return { kind: "after", sort: sort as VersionSort, dir, value: value as SortValue, stem };
}

/**
 * The order of GET /versions over (sort value, name), as lib/views/table-query.ts sorts the rows: missing
 * values last both ways, ties by name. cursor.test.ts proves the two agree. Pure.
 */
export function compareKeys(a: { value: SortValue; stem: string }, b: { value: SortValue; stem: string }, dir: SortDir): number {
  const x = a.value;
  const y = b.value;
  if (x === null || y === null) {
    if (x === y) return a.stem.localeCompare(b.stem);
    return x === null ? 1 : -1;
  }
  const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
  return c !== 0 ? (dir === "asc" ? c : -c) : a.stem.localeCompare(b.stem);
}

/**
 * Where the page after `cursor` starts in `rows` (sorted by the cursor's order): the first row after the
 * cursor's key, found by bisection, so a row added or removed before it moves nothing. Pure.
 */
export function startAfter(rows: readonly Pick<VersionRow, VersionSort>[], cursor: VersionCursor): number {
  if (cursor.kind === "offset") return Math.min(cursor.offset, rows.length);
  const key = { value: cursor.value, stem: cursor.stem };
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const row = rows[mid] as Pick<VersionRow, VersionSort>;
    if (compareKeys({ value: row[cursor.sort], stem: row.stem }, key, cursor.dir) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
