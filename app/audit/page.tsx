import type { Metadata } from "next";
import Link from "next/link";
import { Suspense } from "react";
import { z } from "zod";
import { fmtSecond, LivePeriods, periodSince, periodUntil, periodVersion, putThereBy } from "@/components/live-periods";
import {
  AUDIT_ACTIONS,
  type AuditEvent,
  listEvents,
  productionAtInstant,
  productionTimeline,
  verifyRecentChain,
  verifyStoredChain,
} from "@/lib/audit";
import { can } from "@/lib/auth";
import { countingRefusals, flushRefusals } from "@/lib/audit/refusals";
import { InvalidInputError, parseInstant } from "@/lib/registry";
import { db, requirePage } from "@/lib/server/session";
import { ScrollBox } from "@/components/scroll-box";

export const metadata: Metadata = { title: "Audit log" };
export const dynamic = "force-dynamic";

const PAGE_SIZE = 50;
/** Stands for an `at` that is not one short text (repeated, or too long); no real input contains a NUL. */
const NOT_ONE_VALUE = "\u0000";
const text = z.string().trim().max(200).optional().catch(undefined);
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .optional()
  .catch(undefined);
const query = z.object({
  action: z.enum(AUDIT_ACTIONS).optional().catch(undefined),
  actor: text,
  version: text,
  correlation: z
    .string()
    .regex(/^[0-9a-zA-Z-]{1,64}$/)
    .optional()
    .catch(undefined),
  from: day,
  to: day,
  page: z.coerce.number().int().min(1).max(100_000).catch(1).default(1),
  verify: z.enum(["full"]).optional().catch(undefined),
  // "What was production at": checked strictly below, so a bad value is reported rather than dropped.
  at: z.string().max(100).optional().catch(NOT_ONE_VALUE),
});

/** The instant asked for on the timeline: ISO UTC, or the error to show; a picker's value (no zone) is UTC. */
function instantOf(raw: string | undefined): { at: string | null; error: string | null } {
  if (!raw) return { at: null, error: null };
  if (raw === NOT_ONE_VALUE) return { at: null, error: "Give one date-time of at most 100 characters, e.g. 2026-03-01T12:00:00Z." };
  try {
    return { at: parseInstant(raw, { zoneless: "utc", label: "The date-time" }), error: null };
  } catch (e) {
    if (e instanceof InvalidInputError) return { at: null, error: e.message };
    throw e;
  }
}

type Query = z.output<typeof query>;

export default async function AuditPage(props: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requirePage("audit.read", "/audit");
  const q = query.parse(await props.searchParams);
  // Refusals counted in minutes that have closed go into the chain before it is shown.
  await flushRefusals(db());
  return (
    <>
      <div className="page-head">
        <h1>Audit log</h1>
        <p className="muted">Every attempt to change production, refused ones included, newest first.</p>
      </div>

      <Suspense fallback={<p className="card muted">Verifying the hash chain…</p>}>
        <ChainStatus full={q.verify === "full"} />
      </Suspense>

      <Suspense fallback={null}>
        <Timeline asked={q.at} keep={{ action: q.action, actor: q.actor, version: q.version, from: q.from, to: q.to }} />
      </Suspense>

      <Suspense fallback={null}>
        <CountingRefusals />
      </Suspense>

      <History q={q} canExport={can(user.roles, "audit.export")} />
    </>
  );
}

/** The events themselves, filtered and a page at a time, newest first. */
async function History({ q, canExport }: { q: Query; canExport: boolean }) {
  const filter = {
    action: q.action,
    actor: q.actor || undefined,
    version: q.version || undefined,
    from: q.from,
    to: q.to ? `${q.to}T23:59:59.999Z` : undefined,
    correlation: q.correlation || undefined,
  };
  const { events, total } = await listEvents(db(), filter, q.page, PAGE_SIZE);
  const filtered = Object.values(filter).some((v) => v !== undefined);
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const link = (page: number) =>
    `/audit?${new URLSearchParams(Object.entries({ ...q, page: String(page) }).filter(([, v]) => v !== undefined && v !== "" && v !== NOT_ONE_VALUE) as [string, string][])}`;
  return (
    <section className="card" aria-labelledby="history-title">
      <div className="card-head">
        <h2 id="history-title">History</h2>
        <span className="muted">{total.toLocaleString("en-US")} events</span>
        {canExport ? (
          <span className="card-actions">
            <a className="btn" href="/audit/export?format=csv" download>
              Export CSV
            </a>
            <a className="btn" href="/audit/export?format=json" download>
              Export JSON
            </a>
          </span>
        ) : null}
      </div>
      <HistoryFilters q={q} />
      {q.correlation ? (
        <p className="muted" data-testid="correlation-filter">
          The events of one change: <code>{q.correlation}</code>.
        </p>
      ) : null}
      {events.length === 0 ? (
        <p className="muted">
          {filtered ? "No events match these filters." : "No events yet: every promotion, rollback and refusal will be listed here."}
        </p>
      ) : (
        <ol className="events" aria-label="Audit events">
          {events.map((e) => (
            <EventRow key={e.id} e={e} />
          ))}
        </ol>
      )}
      {total > PAGE_SIZE ? (
        <nav className="pager" aria-label="Audit pages">
          {q.page > 1 ? <Link href={link(q.page - 1)}>← Newer</Link> : <span />}
          <span className="muted">
            Page {q.page} of {pages}
          </span>
          {q.page < pages ? <Link href={link(q.page + 1)}>Older →</Link> : <span />}
        </nav>
      ) : null}
    </section>
  );
}

function HistoryFilters({ q }: { q: Query }) {
  return (
    <form className="filters" method="get" action="/audit">
      <div className="field">
        <label htmlFor="f-action">Action</label>
        <select id="f-action" name="action" defaultValue={q.action ?? ""}>
          <option value="">Any action</option>
          {AUDIT_ACTIONS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-actor">Actor</label>
        <input id="f-actor" name="actor" defaultValue={q.actor ?? ""} />
      </div>
      <div className="field">
        <label htmlFor="f-version">Version</label>
        <input id="f-version" name="version" defaultValue={q.version ?? ""} placeholder="stem" />
      </div>
      <div className="field">
        <label htmlFor="f-from">From</label>
        <input id="f-from" name="from" type="date" defaultValue={q.from ?? ""} />
      </div>
      <div className="field">
        <label htmlFor="f-to">To</label>
        <input id="f-to" name="to" type="date" defaultValue={q.to ?? ""} />
      </div>
      <button type="submit" className="btn">
        Filter
      </button>
      <Link href="/audit" className="btn btn-ghost">
        Clear
      </Link>
    </form>
  );
}

const OUTCOME_BADGE: Record<string, string> = {
  succeeded: "badge-good",
  recovered: "badge-good",
  refused: "badge-bad",
  failed: "badge-bad",
  intent: "badge-warn",
  noop: "",
};

function EventRow({ e }: { e: AuditEvent }) {
  const checks = safeJson(e.checks) as {
    name: string;
    passed: boolean;
    overridden?: boolean;
    skipped?: boolean;
    detail: string;
    evidence?: unknown;
  }[];
  return (
    <li className="event" data-action={e.action}>
      <details>
        <summary>
          <span className="mono muted">#{e.seq}</span> <time dateTime={e.at}>{e.at.replace("T", " ").slice(0, 19)} UTC</time>{" "}
          <strong>{e.action}</strong> <span className={`badge ${OUTCOME_BADGE[e.outcome] ?? ""}`}>{e.outcome}</span>{" "}
          {needsReview(e) ? <span className="badge badge-warn">emergency: needs review</span> : null} by <strong>{e.actor}</strong>{" "}
          <span className="muted">
            ({e.role}, {e.source})
          </span>
          {e.toStem ? (
            <>
              {" "}
              <span className="mono">{e.fromStem ?? "—"}</span> → <span className="mono">{e.toStem}</span>
            </>
          ) : null}
          {e.reason ? <span className="event-reason"> — {e.reason}</span> : null}
        </summary>
        <div className="event-body">
          <dl className="facts">
            <dt>From</dt>
            <dd className="mono">
              {e.fromStem ?? "—"} {e.fromScore !== null ? `(${e.metric} ${e.fromScore.toFixed(4)})` : ""}{" "}
              {e.fromSha256 ? `sha256 ${e.fromSha256}` : ""}
            </dd>
            <dt>To</dt>
            <dd className="mono">
              {e.toStem ?? "—"} {e.toScore !== null ? `(${e.metric} ${e.toScore.toFixed(4)})` : ""}{" "}
              {e.toSha256 ? `sha256 ${e.toSha256}` : ""}
            </dd>
            <dt>Correlation</dt>
            <dd className="mono">{e.correlationId}</dd>
            <dt>Hash</dt>
            <dd className="mono">
              {e.hash} (after {e.prevHash.slice(0, 16)}…)
            </dd>
          </dl>
          {checks.length ? (
            <ScrollBox label="Readiness checks at the time">
              <table className="checks">
                <caption className="sr-only">Readiness checks at the time</caption>
                <thead>
                  <tr>
                    <th scope="col">Check</th>
                    <th scope="col">Result</th>
                    <th scope="col">Evidence</th>
                  </tr>
                </thead>
                <tbody>
                  {checks.map((c) => (
                    <tr key={c.name}>
                      <td className="mono">{c.name}</td>
                      <td>{c.skipped ? "skipped" : c.passed ? "pass" : c.overridden ? "overridden" : "fail"}</td>
                      <td>
                        {c.detail}
                        {c.evidence ? <pre className="evidence">{JSON.stringify(c.evidence, null, 1)}</pre> : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollBox>
          ) : null}
          <pre className="evidence">{JSON.stringify(safeJson(e.details), null, 2)}</pre>
        </div>
      </details>
    </li>
  );
}

/** An emergency rollback skipped the two-person rule (lib/approvals): the log flags it for someone to review. */
function needsReview(e: AuditEvent): boolean {
  return e.details.includes('"emergency":true') && (safeJson(e.details) as { emergency?: unknown }).emergency === true;
}

const RECENT = 1000;

/** The newest events are verified on every load; the whole chain on request (it reads every row). */
async function ChainStatus({ full }: { full: boolean }) {
  const report = full ? { ...(await verifyStoredChain(db())), window: 0, total: 0 } : await verifyRecentChain(db(), RECENT);
  const scope = full ? `all ${report.count.toLocaleString("en-US")} events` : "the newest events";
  if (report.ok && report.count === 0) {
    return (
      <p className="card chain-ok" role="status">
        <span className="badge badge-muted">Empty</span> The audit log has no events yet, so there is no chain to verify.
      </p>
    );
  }
  return report.ok ? (
    <p className="card chain-ok" role="status">
      <span className="badge badge-good">Chain intact</span>{" "}
      {full
        ? `${report.count.toLocaleString("en-US")} events, each linked to the one before by sha256;`
        : `${report.window.toLocaleString("en-US")} newest of ${report.total.toLocaleString("en-US")} events verified, each linked to the one before by sha256;`}{" "}
      head <code>{report.headHash.slice(0, 16)}…</code>. {full ? null : <Link href="/audit?verify=full">Verify the whole chain</Link>}
    </p>
  ) : (
    <p className="card chain-bad" role="alert">
      <span className="badge badge-bad">Chain broken</span> Checking {scope}: {report.problem?.message} The log has been tampered with or
      damaged: compare it with your last export.
    </p>
  );
}

/**
 * The production timeline: the newest periods with seconds, sha256, who and why, the period before the log
 * began, and "what was production at" a date-time (a GET form: the answer is a link anyone can share).
 */
async function Timeline({ asked, keep }: { asked: string | undefined; keep: Record<string, string | undefined> }) {
  const database = db();
  const { at, error } = instantOf(asked);
  const [timeline, answer] = await Promise.all([productionTimeline(database, 20), at ? productionAtInstant(database, at) : null]);
  const rows: Parameters<typeof LivePeriods>[0]["periods"] = [...timeline.periods];
  if (timeline.beforeLog) rows.push("gap", timeline.beforeLog);
  return (
    <section className="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Production timeline</h2>
      <form className="filters" method="get" action="/audit" aria-label="Production at a date-time">
        {Object.entries(keep).map(([k, v]) => (v ? <input key={k} type="hidden" name={k} value={v} /> : null))}
        <div className="field">
          <label htmlFor="at">What was production at (UTC)</label>
          <input
            id="at"
            name="at"
            type="datetime-local"
            step="1"
            defaultValue={at ? at.slice(0, 19) : ""}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? "at-error" : undefined}
          />
          {error ? (
            <p id="at-error" className="field-error" role="alert">
              {error}
            </p>
          ) : null}
        </div>
        <button type="submit" className="btn">
          Show
        </button>
      </form>
      {at && answer ? <ProductionAtAnswer at={at} answer={answer} /> : null}
      {rows.length === 0 ? (
        <p className="muted">The audit log records no change of production yet.</p>
      ) : (
        <LivePeriods caption="Periods of production, newest first" periods={rows} score />
      )}
    </section>
  );
}

/** Refusals of the current minute beyond the few recorded one by one: in the chain once their minute closes. */
async function CountingRefusals() {
  const { windows, more } = await countingRefusals(db());
  if (windows.length === 0) return null;
  return (
    <section className="card" aria-labelledby="counting-title">
      <h2 id="counting-title">Refusals being counted</h2>
      <p className="muted">
        Past the first refusal a minute from an address (five for a signed-in person), refusals are counted and written to the log as one
        summary row once their minute has closed.
      </p>
      <ScrollBox label="Refusals being counted">
        <table className="timeline">
          <thead>
            <tr>
              <th scope="col">Who</th>
              <th scope="col">Address</th>
              <th scope="col">Attempted</th>
              <th scope="col">Minute (UTC)</th>
              <th scope="col" className="num">
                Counted, not yet in the log
              </th>
            </tr>
          </thead>
          <tbody>
            {windows.map((w) => (
              <tr key={`${w.kind}|${w.actor}|${w.address}|${w.action}|${w.windowStart}`}>
                <td>{w.actor}</td>
                <td className="mono">{w.address}</td>
                <td>
                  <span className="mono">{w.action}</span> <span className="muted">({w.kind})</span>
                </td>
                <td>{w.windowStart.slice(11, 16)}</td>
                <td className="num">{w.pending.toLocaleString("en-US")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollBox>
      {more ? <p className="muted">…and {more.toLocaleString("en-US")} more.</p> : null}
    </section>
  );
}

function ProductionAtAnswer({ at, answer }: { at: string; answer: Awaited<ReturnType<typeof productionAtInstant>> }) {
  if (answer.status === "no_record") {
    return (
      <p className="alert" role="status" id="production-at">
        Production at <time dateTime={at}>{fmtSecond(at)}</time>: the audit log records no change of production, so it cannot say.
      </p>
    );
  }
  const p = answer.period;
  const change = p.start.how === "promoted" || p.start.how === "rolled_back" ? p.start.change : null;
  return (
    <div className="alert" role="status" id="production-at">
      <p>
        Production at <time dateTime={at}>{fmtSecond(at)}</time>: <strong className="mono">{periodVersion(p)}</strong>
      </p>
      <dl className="facts facts-small">
        <dt>sha256</dt>
        <dd className="mono wrap">{p.sha256 ?? "—"}</dd>
        <dt>Live from</dt>
        <dd>{periodSince(p)}</dd>
        <dt>Until</dt>
        <dd>{periodUntil(p)}</dd>
        <dt>Put there by</dt>
        <dd>{putThereBy(p)}</dd>
        <dt>Why</dt>
        <dd>{change?.reason ?? "—"}</dd>
      </dl>
      {answer.uncertain ? (
        <p className="muted">
          The alias was changed outside the registry before {answer.uncertain.until ? fmtSecond(answer.uncertain.until) : "now"}: by then it
          held <span className="mono">{answer.uncertain.stem ?? "other bytes"}</span>, at a time the log does not know.
        </p>
      ) : null}
    </div>
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
