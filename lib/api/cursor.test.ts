import { describe, expect, it } from "vitest";
import { queryRows } from "@/lib/views/table-query";
import type { VersionRow } from "@/lib/views/version-rows";
import {
  compareKeys,
  decodeVersionCursor,
  encodeVersionCursor,
  type SortDir,
  startAfter,
  VERSION_SORTS,
  type VersionCursor,
  type VersionSort,
} from "./cursor";

// Keyset cursors for GET /versions: a pipeline paging through while training jobs write new versions sees
// every version that existed when it started exactly once, whatever the order.

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

let made = 0;
/** A row with few distinct values per column (many ties) and some missing scores. */
function row(rand: () => number): VersionRow {
  made++;
  const day = String(1 + Math.floor(rand() * 9)).padStart(2, "0");
  const stem = `${["gbm", "rf", "logreg"][Math.floor(rand() * 3)]}_v_202501${day}T${String(made).padStart(6, "0")}Z`;
  return {
    stem,
    modelType: ["gbm", "rf", "logreg"][Math.floor(rand() * 3)] as string,
    trainedAt: `2025-01-${day}T00:00:00Z`,
    score: rand() < 0.2 ? null : Math.round(rand() * 5) / 5,
    metric: ["pr_auc", "roc_auc"][Math.floor(rand() * 2)] as string,
  } as VersionRow;
}

function sorted(rows: readonly VersionRow[], sort: VersionSort, dir: SortDir): VersionRow[] {
  return queryRows(rows, { sort, dir, q: "", type: "", page: 1, size: Number.MAX_SAFE_INTEGER, hide: [] }).rows;
}

const ORDERS = VERSION_SORTS.flatMap((sort) => (["asc", "desc"] as const).map((dir) => [sort, dir] as const));

describe("compareKeys", () => {
  it.each(ORDERS)("orders %s %s exactly as the table's query does, with no two rows equal", (sort, dir) => {
    const rand = rng(7);
    const rows = sorted(
      Array.from({ length: 300 }, () => row(rand)),
      sort,
      dir,
    );
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = [rows[i - 1] as VersionRow, rows[i] as VersionRow];
      expect(compareKeys({ value: a[sort], stem: a.stem }, { value: b[sort], stem: b.stem }, dir)).toBeLessThan(0);
    }
  });
});

describe("cursors", () => {
  it("round-trip, and read the numbers given out before as positions", () => {
    const r = { stem: "gbm_20250101T000000Z", modelType: "gbm", trainedAt: "2025-01-01T00:00:00Z", score: null, metric: "pr_auc" };
    const text = encodeVersionCursor("score", "desc", r);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeVersionCursor(text)).toEqual({ kind: "after", sort: "score", dir: "desc", value: null, stem: r.stem });
    expect(decodeVersionCursor(encodeVersionCursor("trainedAt", "asc", r))).toMatchObject({ value: r.trainedAt });
    expect(decodeVersionCursor("200")).toEqual({ kind: "offset", offset: 200 });
  });

  it("refuses what this API never gave out", () => {
    const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
    for (const bad of [
      "",
      "abc",
      "a b",
      "a".repeat(1401),
      b64("not json"),
      b64({ sort: "score" }),
      b64(["score", "desc", 0.5]),
      b64(["size", "desc", 1, "x"]),
      b64(["score", "up", 1, "x"]),
      b64(["score", "desc", "0.5", "x"]),
      b64(["stem", "desc", 5, "x"]),
      b64(["score", "desc", 0.5, ""]),
      b64(["score", "desc", 0.5, "x".repeat(251)]),
      "1".repeat(10),
    ]) {
      expect(decodeVersionCursor(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});

describe("paging while versions are written", () => {
  it.each(ORDERS)("%s %s: every version there at the start is seen exactly once", (sort, dir) => {
    const rand = rng(sort.length * 31 + dir.length);
    let all = Array.from({ length: 60 }, () => row(rand));
    const atStart = new Set(all.map((r) => r.stem));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const rows = sorted(all, sort, dir);
      const decoded: VersionCursor | null = cursor === null ? null : decodeVersionCursor(cursor);
      const start: number = decoded ? startAfter(rows, decoded) : 0;
      const page = rows.slice(start, start + 7);
      seen.push(...page.map((r) => r.stem));
      const last = page.at(-1);
      cursor = last && start + page.length < rows.length ? encodeVersionCursor(sort, dir, last) : null;
      // A training job writes versions between two pages: some land before the cursor, some after.
      all = [...all, ...Array.from({ length: 4 }, () => row(rand))];
    } while (cursor);
    expect(seen.filter((s) => atStart.has(s)).sort()).toEqual([...atStart].sort());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("continues after a version that was removed meanwhile", () => {
    const rand = rng(3);
    const rows = sorted(
      Array.from({ length: 20 }, () => row(rand)),
      "score",
      "desc",
    );
    const cursor = decodeVersionCursor(encodeVersionCursor("score", "desc", rows[9] as VersionRow));
    if (!cursor) throw new Error("cursor");
    const without = rows.filter((_, i) => i !== 9);
    expect(startAfter(without, cursor)).toBe(9);
    expect(without[9]).toBe(rows[10]);
  });
});
