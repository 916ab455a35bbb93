import { MetricCharts } from "@/components/metric-charts";
import { ProblemsPanel } from "@/components/problems-panel";
import { ProductionCard } from "@/components/production-card";
import { VersionsTable } from "@/components/versions-table";
import { loadSnapshot, minScore } from "@/lib/server/registry";
import { buildChartData } from "@/lib/views/chart-data";
import { parseTableQuery, queryRows } from "@/lib/views/table-query";
import { toRow } from "@/lib/views/version-rows";

// Every load re-scans the registry: a run written a second ago must show up.
export const dynamic = "force-dynamic";

export default async function OverviewPage(props: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const query = parseTableQuery(await props.searchParams);
  const snapshot = await loadSnapshot();
  const threshold = minScore();
  const rows = snapshot.versions.map((v) => toRow(v, snapshot.production));
  const page = queryRows(rows, query);
  const best = snapshot.versions.find((v) => v.stem === snapshot.best);
  const charts = buildChartData(rows);

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
      <ProductionCard
        production={snapshot.production}
        best={best ? { stem: best.stem, score: best.score, metric: best.metric } : null}
        minScore={threshold}
        now={new Date()}
      />
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
