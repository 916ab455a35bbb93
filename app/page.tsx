import { MetricCharts } from "@/components/metric-charts-mount";
import { PendingApprovals } from "@/components/pending-approvals";
import { countPending } from "@/lib/approvals";
import { type ReleaseAction, ReleaseActions } from "@/components/release-dialog";
import { previousProduction, productionTimeline } from "@/lib/audit";
import { can } from "@/lib/auth";
import { inspectVersions } from "@/lib/server/inspection";
import { db, requirePage } from "@/lib/server/session";
import { applyChange, loadCheckStatusAction, previewChange } from "./actions";
import { ProblemsPanel } from "@/components/problems-panel";
import { ProductionCard } from "@/components/production-card";
import { VersionsTable } from "@/components/versions-table";
import { loadSnapshot, minScore, overviewData, withModelFacts } from "@/lib/server/registry";
import { parseTableQuery, queryRows } from "@/lib/views/table-query";

// Every load re-scans the registry: a run written a second ago must show up.
export const dynamic = "force-dynamic";

/** Promote the best and roll back to the previous production, each only when it would change something. */
function overviewActions(
  snapshot: { production: { stem: string | null } },
  best?: string | null,
  previous?: string | null,
): ReleaseAction[] {
  const live = snapshot.production.stem;
  return [
    ...(best && best !== live ? [{ kind: "promote" as const, label: "Promote best" }] : []),
    ...(previous && previous !== live
      ? [{ kind: "rollback" as const, version: "previous", label: `Roll back to previous production (${previous})`, danger: true }]
      : []),
  ];
}

export default async function OverviewPage(props: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requirePage("registry.read", "/");
  const query = parseTableQuery(await props.searchParams);
  const snapshot = await loadSnapshot();
  const threshold = minScore();
  const { rows, charts } = overviewData(snapshot);
  const page = queryRows(rows, query);
  // Only the rows on screen are inspected (cached by content hash): the table stays fast at any size.
  const byStem = new Map(snapshot.versions.map((v) => [v.stem, v]));
  const onScreen = withModelFacts(
    snapshot.root,
    page.rows.map((r) => byStem.get(r.stem)).filter((v) => v !== undefined),
  );
  const reports = await inspectVersions(snapshot.root, onScreen);
  // Rows and versions are shared by every request for the same scan: this page's verdicts go on copies.
  page.rows = page.rows.map((r) => {
    const report = reports.get(r.stem);
    return { ...r, safety: report ? { verdict: report.verdict, reason: report.reason } : null };
  });
  const releaser = can(user.roles, "model.promote");
  const database = db();
  const [timeline, previous, pending] = await Promise.all([
    productionTimeline(database, 1),
    previousProduction(database, { stem: snapshot.production.stem, sha256: snapshot.production.sha256 }),
    countPending(database, new Date(), "web"),
  ]);
  const best = snapshot.versions.find((v) => v.stem === snapshot.best);

  return (
    <>
      <div className="page-head">
        <h1>Overview</h1>
        <p className="muted">
          {snapshot.versions.length} versions · {snapshot.problems.length} problem file
          {snapshot.problems.length === 1 ? "" : "s"} · scanned {snapshot.scannedAt.slice(11, 19)} UTC
          {snapshot.problems.length > 0 && (
            <>
              {" · "}
              <a href="#problems">see problems</a>
            </>
          )}
        </p>
      </div>
      <PendingApprovals count={pending} />
      <ProductionCard
        production={snapshot.production}
        best={best ? { stem: best.stem, score: best.score, metric: best.metric } : null}
        minScore={threshold}
        now={new Date()}
        latest={timeline.periods[0] ?? null}
      >
        {releaser ? (
          <ReleaseActions
            preview={previewChange}
            apply={applyChange}
            loadCheckStatus={loadCheckStatusAction}
            actions={overviewActions(snapshot, best?.stem, previous.previous?.stem)}
          />
        ) : null}
      </ProductionCard>
      <section className="card" aria-labelledby="versions-title">
        <div className="card-head">
          <h2 id="versions-title">Versions</h2>
        </div>
        <VersionsTable
          rows={page.rows}
          total={page.total}
          all={rows.length}
          pageCount={page.pageCount}
          modelTypes={page.modelTypes}
          query={{ ...query, page: page.page }}
        />
      </section>
      <MetricCharts data={charts} minScore={threshold} />
      <ProblemsPanel problems={snapshot.problems} />
    </>
  );
}
