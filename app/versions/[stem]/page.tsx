import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import {
  InvalidInputError,
  type PlanSubjects,
  planChange,
  readArtifactEvidence,
  type RollbackEligibility,
  rollbackEligibility,
  viewOf,
  UNKNOWN_METRIC,
  UnknownVersionError,
  validateVersionName,
  type Version,
} from "@/lib/registry";
import { ReleaseActions } from "@/components/release-dialog";
import { InspectionCard } from "@/components/inspection-card";
import { MetadataCard } from "@/components/version/metadata-card";
import { MetricsCard } from "@/components/version/metrics-card";
import { ReadinessCard } from "@/components/version/readiness-card";
import { LoadCheckPanel } from "@/components/load-check-panel";
import { peekLoadCheck } from "@/lib/load-check";
import { loadCheckPolicyNow } from "@/lib/server/load-check";
import { SummaryStrip } from "@/components/version/summary-strip";
import { productionHistory } from "@/lib/audit";
import { can } from "@/lib/auth";
import { loadSubjects, safetyEvidence } from "@/lib/registry/plan-from-disk";
import { inspectVersions } from "@/lib/server/inspection";
import { trustPolicy } from "@/lib/trust/trust-list";
import { loadSnapshot, minScore } from "@/lib/server/registry";
import { db, requirePage } from "@/lib/server/session";
import { applyChange, loadCheckStatusAction, previewChange, startLoadCheckAction } from "../../actions";
import { clipStrings, entriesOf } from "@/lib/views/json-display";
import { compareHref, metricsHref } from "@/lib/views/links";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ stem: string }> };

/** The stem from the URL, or a 404: a malformed name is "no such page", never a server error. */
function stemOr404(raw: string): string {
  try {
    return validateVersionName(raw);
  } catch (e) {
    if (e instanceof InvalidInputError) notFound();
    throw e;
  }
}

export async function generateMetadata(props: Props): Promise<Metadata> {
  const { stem } = await props.params;
  return { title: stem.length <= 200 ? stem : "Version" };
}

/** Everything the version page shows, read once: the plan a promotion would run, evidence and inspection. */
async function loadPage(stem: string, releaser: boolean) {
  const snapshot = await loadSnapshot();
  const request = { kind: "promote" as const, version: stem };
  let subjects: PlanSubjects;
  try {
    // New objects with the documents and model facts: the cached snapshot keeps highlights only.
    subjects = loadSubjects(snapshot.root, viewOf(snapshot), request);
  } catch (e) {
    if (e instanceof UnknownVersionError) notFound();
    throw e;
  }
  const { target } = subjects;
  const threshold = minScore();
  const [policy, loadPolicy] = await Promise.all([trustPolicy(db()), loadCheckPolicyNow()]);
  const [artifact, safety, reports] = await Promise.all([
    readArtifactEvidence(snapshot.root, target),
    safetyEvidence(snapshot.root, target, snapshot, subjects.production, policy),
    inspectVersions(snapshot.root, [target]),
  ]);
  // Only a look: the sandbox never runs while a page renders (a releaser's button starts it, off this path).
  const load = peekLoadCheck(
    snapshot.root,
    { file: target.modelFile, sha256: target.sha256, stem: target.stem },
    safety.candidate.verdict,
    loadPolicy,
  );
  const loadCheck = load.state === "done" ? load.facts : null;
  const plan = planChange(snapshot, subjects, { ...request, minScore: threshold, overrides: [] }, { artifact, safety, loadCheck });
  const prod = snapshot.production;
  // Rollback is offered only for bytes the audit log recorded live; anything else is a promotion.
  const rollback: RollbackEligibility | null =
    releaser && !target.isProduction ? rollbackEligibility(target, prod, await productionHistory(db()).liveRecord(target.sha256)) : null;
  return { snapshot, target, threshold, plan, prod, rollback, report: reports.get(stem), load };
}

export default async function VersionPage(props: Props) {
  const rawStem = (await props.params).stem;
  const user = await requirePage("registry.read", `/versions/${encodeURIComponent(rawStem)}`);
  const stem = stemOr404(rawStem);
  const releaser = can(user.roles, "model.promote");
  const { snapshot, target, threshold, plan, prod, rollback, report, load } = await loadPage(stem, releaser);
  const doc = target.metrics;
  // The metadata's strings come from the file, at any length.
  const meta = doc ? clipStrings(doc.meta) : undefined;
  const hasScore = target.metric !== UNKNOWN_METRIC;
  const delta = hasScore && prod.score !== null && prod.metric === target.metric ? target.score - prod.score : null;
  const download = target.metricsFile ? metricsHref(stem) : null;
  // A check that no reason can override (no metrics, an unsafe file…) fails a rollback as surely as a promotion.
  const blocked = plan.checks.filter((c) => !c.passed && !c.overridable && !c.skipped);

  return (
    <>
      <VersionHead version={target} hasScore={hasScore} />

      <SummaryStrip
        version={target}
        production={prod}
        hasScore={hasScore}
        delta={delta}
        trainedAt={meta?.trainedAt}
        trainedBy={meta?.trainedBy}
        estimator={meta?.modelType}
      >
        {prod.stem && !target.isProduction && (
          <Link className="button button-primary" href={compareHref([prod.stem, stem])}>
            Compare with production
          </Link>
        )}
        {snapshot.best && snapshot.best !== stem && snapshot.best !== prod.stem && (
          <Link className="button" href={compareHref([snapshot.best, stem])}>
            Compare with best
          </Link>
        )}
        {/* Rendered even with no action to offer: it owns the dialog, whose result must outlive the refresh. */}
        {releaser ? (
          <ReleaseActions
            preview={previewChange}
            apply={applyChange}
            loadCheckStatus={loadCheckStatusAction}
            actions={
              target.isProduction || blocked.length > 0
                ? []
                : [
                    { kind: "promote", version: stem, label: "Promote" },
                    ...(rollback?.legitimate
                      ? [{ kind: "rollback" as const, version: stem, label: "Rollback to this version", danger: true }]
                      : []),
                  ]
            }
          />
        ) : null}
      </SummaryStrip>
      <ReleaseNote blocked={releaser && !target.isProduction ? blocked.map((c) => c.name) : []} rollback={rollback} />

      <div className="two-col">
        <MetricsCard
          changes={plan.metricChanges}
          omitted={plan.metricChangesOmitted}
          raw={doc?.metrics ?? null}
          isProduction={target.isProduction}
          hyper={entriesOf(doc?.hyperparameters)}
          download={download}
        />
        <MetadataCard version={target} meta={meta} form={doc?.form ?? null} extra={entriesOf(doc?.extra)} download={download} />
      </div>

      {report ? <InspectionCard report={report} /> : null}
      <ReadinessCard
        checks={plan.checks}
        verdict={plan.noop ? "noop" : plan.allowed ? "allowed" : "refused"}
        production={prod.stem}
        threshold={threshold}
      />
      {load.state === "done" ? null : (
        <LoadCheckPanel
          // Keyed by the bytes: another file under this name starts from what the server says of it.
          key={target.sha256}
          version={stem}
          initial={load}
          canStart={releaser}
          start={startLoadCheckAction}
          status={loadCheckStatusAction}
        />
      )}
    </>
  );
}

/** The breadcrumb, the name with its badges, and a broken metrics file said first. */
function VersionHead({ version: v, hasScore }: { version: Version; hasScore: boolean }) {
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href="/">Overview</Link> <span aria-hidden="true">/</span> <span className="mono">{v.stem}</span>
      </nav>
      <div className="page-head">
        <h1 className="mono">{v.stem}</h1>
        <div className="badges">
          {v.isProduction && <span className="badge badge-good">Production</span>}
          {v.isBest && <span className="badge badge-accent">Best</span>}
          {!hasScore && <span className="badge badge-warn">No score</span>}
        </div>
      </div>

      {v.metricsError && (
        <p className="alert alert-bad" role="note">
          <strong>Metrics file is broken:</strong> {v.metricsError} The version is listed without metrics until the file is fixed.
        </p>
      )}
    </>
  );
}

/** Why the release buttons are missing (a check nothing can override), or whether a rollback is possible. */
function ReleaseNote({ blocked, rollback }: { blocked: string[]; rollback: RollbackEligibility | null }) {
  if (blocked.length > 0) {
    return (
      <p className="alert alert-bad" data-testid="cannot-release">
        <strong>Cannot go to production:</strong> {blocked.join(", ")} failed, and no reason can override{" "}
        {blocked.length === 1 ? "it" : "them"}. See the readiness checks below.
      </p>
    );
  }
  if (!rollback) return null;
  return (
    <p className={rollback.legitimate ? "muted" : "alert"} id="rollback-eligibility" data-finding={rollback.code}>
      {rollback.legitimate ? `Rollback possible: ${rollback.explanation}` : `No rollback to this version: ${rollback.explanation}`}
    </p>
  );
}
