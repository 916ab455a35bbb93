import { readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";

// Raw HTTP as an attacker sends it (Node's own fetch: no browser, no cookie jar), and what the audit
// database then holds, read straight from the SQLite file the server writes.

/** The id Next gave a server action in this build, from the build's own manifest (what a page would embed). */
export function actionId(exportedName: string): string {
  const manifest = JSON.parse(readFileSync(join(process.cwd(), ".next/server/server-reference-manifest.json"), "utf8")) as {
    node: Record<string, { exportedName: string }>;
  };
  const found = Object.entries(manifest.node).find(([, v]) => v.exportedName === exportedName);
  if (!found) throw new Error(`no server action named ${exportedName} in this build`);
  return found[0];
}

/** POSTs a server-action request; `body` defaults to what the client sends for (prevState, {}) as text. */
export function postAction(
  baseURL: string,
  id: string,
  opts: { headers?: Record<string, string>; body?: string; contentType?: string | null; path?: string } = {},
): Promise<Response> {
  const contentType = opts.contentType === undefined ? "text/plain;charset=UTF-8" : opts.contentType;
  return fetch(`${baseURL}${opts.path ?? "/"}`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "next-action": id,
      accept: "text/x-component",
      ...(contentType ? { "content-type": contentType } : {}),
      ...opts.headers,
    },
    body: opts.body ?? '["$undefined",{}]',
  });
}

/** Runs `n` requests, `parallel` at a time, and returns their status codes. */
export async function flood(n: number, parallel: number, send: (i: number) => Promise<Response>): Promise<number[]> {
  const statuses: number[] = [];
  for (let start = 0; start < n; start += parallel) {
    const batch = Array.from({ length: Math.min(parallel, n - start) }, async (_, k) => {
      const res = await send(start + k);
      await res.arrayBuffer();
      return res.status;
    });
    statuses.push(...(await Promise.all(batch)));
  }
  return statuses;
}

function auditDb(): Database.Database {
  return new Database(join(process.env.E2E_DIR ?? "/tmp", "audit.db"), { readonly: true, timeout: 10_000 });
}

/** How many rows the hash-chained audit log holds. */
export function chainRows(): number {
  const db = auditDb();
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM AuditEvent").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** The chained events after `seq`, oldest first. */
export function eventsAfter(seq: number): { seq: number; action: string; actor: string; reason: string | null; details: string }[] {
  const db = auditDb();
  try {
    return db.prepare("SELECT seq, action, actor, reason, details FROM AuditEvent WHERE seq > ? ORDER BY seq").all(seq) as never;
  } finally {
    db.close();
  }
}

/** How many chained rows record refusals of `action` by `actor`: one by one, or summaries. */
export function chainRowsOf(kind: "auth.denied" | "request.cross_origin", actor: string, action: string): number {
  const db = auditDb();
  try {
    const rows = db
      .prepare("SELECT details FROM AuditEvent WHERE actor = ? AND action IN (?, ?)")
      .all(actor, kind, `${kind}_aggregated`) as { details: string }[];
    return rows.filter((r) => (JSON.parse(r.details) as { action?: string }).action === action).length;
  } finally {
    db.close();
  }
}

export function headSeq(): number {
  const db = auditDb();
  try {
    return (db.prepare("SELECT COALESCE(MAX(seq), 0) AS n FROM AuditEvent").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/**
 * Every refusal of `action` (a server-action name, e.g. "model.apply") by `actor` the log accounts for:
 * one per row written one by one, the count of each summary row, and the counts still being gathered
 * for a window that has not closed yet. Only grows: a window closing moves its count into the chain.
 */
export function refusalsAccountedFor(kind: "auth.denied" | "request.cross_origin", actor: string, action: string): number {
  const db = auditDb();
  try {
    const rows = db
      .prepare("SELECT action, details FROM AuditEvent WHERE actor = ? AND action IN (?, ?)")
      .all(actor, kind, `${kind}_aggregated`) as { action: string; details: string }[];
    let total = 0;
    for (const row of rows) {
      const details = JSON.parse(row.details) as { action?: string; count?: number };
      if (details.action !== action) continue;
      total += row.action === kind ? 1 : (details.count ?? 0);
    }
    // (A database from before refusals were counted has no such table: then the chain is all there is.)
    const counting = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'RefusalWindow'").get();
    const pending = counting
      ? (db
          .prepare(
            "SELECT COALESCE(SUM(seen - written - summarised), 0) AS n FROM RefusalWindow WHERE kind = ? AND actor = ? AND action = ?",
          )
          .get(kind, actor, action) as { n: number })
      : { n: 0 };
    return total + pending.n;
  } finally {
    db.close();
  }
}

/** The refusals of `action` by `actor` counted but not yet written into the chain. */
export function pendingRefusals(kind: "auth.denied" | "request.cross_origin", actor: string, action: string): number {
  const db = auditDb();
  try {
    const row = db
      .prepare("SELECT COALESCE(SUM(seen - written - summarised), 0) AS n FROM RefusalWindow WHERE kind = ? AND actor = ? AND action = ?")
      .get(kind, actor, action) as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}
