import { describe, expect, it } from "vitest";
import { parseTableQuery, queryRows } from "./table-query";
import { DEFAULT_HIDDEN, DEFAULT_QUERY, HIDE_NONE, tableQueryToSearch } from "./table-state";
import { makeRow } from "./test-support";

describe("parseTableQuery", () => {
  it("reads every field from the URL", () => {
    const q = parseTableQuery({
      sort: "prAuc",
      dir: "asc",
      q: " 2025 ",
      type: "xgb",
      page: "3",
      size: "100",
      hide: "gitCommit,dataVersion",
    });
    expect(q).toEqual({ sort: "prAuc", dir: "asc", q: "2025", type: "xgb", page: 3, size: 100, hide: ["gitCommit", "dataVersion"] });
  });

  it("falls back per field on malformed values instead of failing the page", () => {
    const q = parseTableQuery({ sort: "__proto__", dir: "sideways", page: "-4", size: "7", hide: "nope,prAuc", q: ["a", "b"] });
    expect(q).toEqual({ ...DEFAULT_QUERY, q: "a", hide: ["prAuc"] });
    expect(parseTableQuery({ page: "abc" }).page).toBe(1);
    expect(parseTableQuery({})).toEqual(DEFAULT_QUERY);
  });

  it("round-trips through the URL and leaves defaults out", () => {
    expect(tableQueryToSearch(DEFAULT_QUERY)).toBe("");
    const q = { ...DEFAULT_QUERY, sort: "score" as const, dir: "asc" as const, q: "a b", page: 2 };
    const search = tableQueryToSearch(q);
    expect(search).toBe("?sort=score&dir=asc&q=a+b&page=2");
    expect(parseTableQuery(Object.fromEntries(new URLSearchParams(search)))).toEqual(q);
  });

  it("hides the default columns unless the link says otherwise, and keeps 'show every column' in the link", () => {
    expect(parseTableQuery({}).hide).toEqual([...DEFAULT_HIDDEN]);
    const all = { ...DEFAULT_QUERY, hide: [] };
    expect(tableQueryToSearch(all)).toBe(`?hide=${HIDE_NONE}`);
    expect(parseTableQuery({ hide: HIDE_NONE }).hide).toEqual([]);
    const fewer = { ...DEFAULT_QUERY, hide: ["gitCommit" as const] };
    expect(parseTableQuery(Object.fromEntries(new URLSearchParams(tableQueryToSearch(fewer))))).toEqual(fewer);
  });
});

describe("queryRows", () => {
  const rows = [
    makeRow({ stem: "a_20250101T000000Z", trainedAt: "2025-01-01T00:00:00Z", modelType: "logreg", prAuc: 0.6, gitCommit: "abc123" }),
    makeRow({ stem: "b_20250102T000000Z", trainedAt: "2025-01-02T00:00:00Z", modelType: "xgb", prAuc: null }),
    makeRow({ stem: "c_20250103T000000Z", trainedAt: "2025-01-03T00:00:00Z", modelType: "logreg", prAuc: 0.4 }),
    makeRow({ stem: "d_20250104T000000Z", trainedAt: "2025-01-04T00:00:00Z", modelType: "xgb", prAuc: 0.9 }),
  ];

  it("sorts both ways with missing values last", () => {
    const asc = queryRows(rows, { ...DEFAULT_QUERY, sort: "prAuc", dir: "asc" });
    expect(asc.rows.map((r) => r.prAuc)).toEqual([0.4, 0.6, 0.9, null]);
    const desc = queryRows(rows, { ...DEFAULT_QUERY, sort: "prAuc", dir: "desc" });
    expect(desc.rows.map((r) => r.prAuc)).toEqual([0.9, 0.6, 0.4, null]);
  });

  it("filters by model type and by text in names and commits", () => {
    expect(queryRows(rows, { ...DEFAULT_QUERY, type: "xgb" }).rows.map((r) => r.stem[0])).toEqual(["d", "b"]);
    expect(queryRows(rows, { ...DEFAULT_QUERY, q: "ABC1" }).rows.map((r) => r.stem[0])).toEqual(["a"]);
    const page = queryRows(rows, { ...DEFAULT_QUERY, type: "none" });
    expect(page).toMatchObject({ rows: [], total: 0, pageCount: 1, page: 1, modelTypes: ["logreg", "xgb"] });
  });

  it("pages 20,000 versions on the server and clamps a page past the end", () => {
    const many = Array.from({ length: 20_000 }, (_, i) =>
      makeRow({
        stem: `m_${String(i).padStart(5, "0")}`,
        trainedAt: new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString(),
        prAuc: (i % 997) / 997,
      }),
    );
    const p = queryRows(many, { ...DEFAULT_QUERY, sort: "prAuc", dir: "desc", page: 3, size: 100 });
    expect(p.total).toBe(20_000);
    expect(p.pageCount).toBe(200);
    expect(p.rows).toHaveLength(100);
    expect(p.rows[0]!.prAuc).toBeGreaterThanOrEqual(p.rows[99]!.prAuc!);
    const last = queryRows(many, { ...DEFAULT_QUERY, page: 999 });
    expect(last.page).toBe(400);
    expect(last.rows.at(-1)!.stem).toBe("m_00000");
  });
});
