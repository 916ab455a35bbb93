import type { Metadata } from "next";
import Link from "next/link";
import { DecisionForms, WithdrawForm } from "@/components/approval-forms";
import { ApprovalSettingsForm, type SettingField } from "@/components/approval-settings-form";
import {
  closedRequests,
  countPending,
  flaggedEmergencies,
  identityOfUser,
  openRequests,
  type RequestView,
  samePerson,
} from "@/lib/approvals";
import { can } from "@/lib/auth";
import { db, requirePage } from "@/lib/server/session";
import { readSettings, APPROVAL_SETTING_KEYS, SETTINGS, type Settings } from "@/lib/settings/settings";
import { fmtAgo, fmtMetric, fmtTime } from "@/lib/views/format";
import { approveAction, rejectAction, settingsAction, withdrawAction } from "./actions";
import "@/components/approvals.css";
import { ScrollBox } from "@/components/scroll-box";

export const metadata: Metadata = { title: "Approvals" };
export const dynamic = "force-dynamic";

const STATE_BADGE: Record<string, string> = {
  pending: "badge-warn",
  approving: "badge-warn",
  approved: "badge-good",
  rejected: "badge-bad",
  stale: "badge-bad",
  refused: "badge-bad",
  failed: "badge-bad",
  expired: "badge-muted",
  withdrawn: "badge-muted",
};

const short = (sha: string | null) => (sha ? `${sha.slice(0, 12)}…` : "—");

/** "in 3 hours" / "in 12 minutes": how long a pending request has left. Pure. */
function fmtIn(iso: string, now: Date): string {
  const minutes = Math.max(0, Math.round((Date.parse(iso) - now.getTime()) / 60_000));
  return minutes >= 120 ? `in ${Math.floor(minutes / 60)} hours` : `in ${minutes} minute${minutes === 1 ? "" : "s"}`;
}

export default async function ApprovalsPage() {
  const user = await requirePage("registry.read", "/approvals");
  const database = db();
  const now = new Date();
  // Reading the open requests first expires any whose time is up (recorded once), so the lists agree.
  const open = await openRequests(database, now, "web");
  const [pending, settings, closed, me, flagged] = await Promise.all([
    countPending(database, now, "web"),
    readSettings(database),
    closedRequests(database, 20),
    identityOfUser(database, user),
    flaggedEmergencies(database, 20),
  ]);
  const releaser = can(user.roles, "model.promote");
  const admin = can(user.roles, "users.manage");

  return (
    <>
      <div className="page-head">
        <h1>Approvals</h1>
        <p className="muted">
          {settings.approvals.value === "required"
            ? "The two-person rule is on: a promotion or rollback by one releaser waits here until a second releaser approves it."
            : "The two-person rule is off: releasers promote and roll back alone. Requests made while it was on can still be decided."}
        </p>
      </div>

      <OpenRequests open={open} pending={pending} now={now} releaser={releaser} me={me} />

      <FlaggedEmergencies flagged={flagged} />

      <RecentlyDecided closed={closed} />

      <SettingsCard settings={settings} admin={admin} />
    </>
  );
}

function RequestSummary({ r, now }: { r: RequestView; now: Date }) {
  const failed = r.checks.filter((c) => !c.passed && !c.skipped);
  return (
    <div className="request-summary">
      <h3>
        <span className="mono muted">#{r.id}</span> {r.kind === "promote" ? "Promote" : "Roll back to"}{" "}
        <Link href={`/versions/${r.targetStem}`} prefetch={false} className="mono">
          {r.targetStem}
        </Link>{" "}
        <span className={`badge ${STATE_BADGE[r.state] ?? ""}`}>{r.state}</span>
      </h3>
      <dl className="facts">
        <dt>Target</dt>
        <dd className="mono" title={r.targetSha256}>
          sha256 {short(r.targetSha256)} · {r.metric ?? "score"} {fmtMetric(r.targetScore)}
        </dd>
        <dt>Production when asked</dt>
        <dd className="mono" title={r.productionSha256 ?? ""}>
          {r.fromStem ?? "nothing"} · sha256 {short(r.productionSha256)} · {fmtMetric(r.fromScore)}
        </dd>
        <dt>Checks</dt>
        <dd>
          {failed.length === 0
            ? `all ${r.checks.filter((c) => !c.skipped).length} passed`
            : failed.map((c) => `${c.name} ${c.overridden ? "overridden" : "failed"}`).join(", ")}
        </dd>
        <dt>Overrides</dt>
        <dd>{r.overrides.length ? r.overrides.map((o) => `${o.check}: “${o.reason}”`).join("; ") : "none"}</dd>
        <dt>Asked by</dt>
        <dd>
          {r.requester.username} <span className="muted">({r.source})</span>, <time dateTime={r.createdAt}>{fmtAgo(r.createdAt, now)}</time>
        </dd>
        <dt>Reason</dt>
        <dd>{r.reason}</dd>
        <dt>Expires</dt>
        <dd>
          <time dateTime={r.expiresAt}>{fmtTime(r.expiresAt)}</time> <span className="muted">({fmtIn(r.expiresAt, now)})</span>
        </dd>
      </dl>
    </div>
  );
}

function SettingsFacts({ settings }: { settings: Settings }) {
  return (
    <dl className="facts">
      {APPROVAL_SETTING_KEYS.map((key) => {
        const s = settings[key];
        const def = SETTINGS[key];
        const from =
          s.source === "env"
            ? `pinned by ${def.env}`
            : s.source === "database"
              ? `set by ${s.updatedBy ?? "an admin"} ${s.updatedAt ? fmtTime(s.updatedAt) : ""}`
              : "default";
        const warning = s.problem ?? s.ignored;
        return (
          <div key={key} className="facts-row">
            <dt>{def.label}</dt>
            <dd>
              <strong>{def.show(s.value as never)}</strong> <span className="muted">({from})</span>
              {warning ? (
                <span className="form-error" role="alert">
                  {" "}
                  {warning}
                </span>
              ) : null}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}

function OpenRequests(props: {
  open: Awaited<ReturnType<typeof openRequests>>;
  pending: number;
  now: Date;
  releaser: boolean;
  me: Awaited<ReturnType<typeof identityOfUser>>;
}) {
  const { open, pending, now, releaser, me } = props;
  return (
    <section className="card" aria-labelledby="open-title">
      <div className="card-head">
        <h2 id="open-title">Waiting for a second releaser</h2>
        <span className="muted">
          {pending} pending{open.length < pending ? ` (the oldest ${open.length} shown)` : ""}
        </span>
      </div>
      {open.length === 0 ? (
        <p className="muted">No request is waiting.</p>
      ) : (
        <ol className="requests" aria-label="Open requests">
          {open.map((r) => (
            <li key={r.id} className="request" data-request={r.id}>
              <RequestSummary r={r} now={now} />
              {r.state !== "pending" ? (
                <p className="muted">Being applied by {r.decider?.username ?? "a releaser"}…</p>
              ) : !releaser ? (
                <p className="muted">Only releasers decide requests.</p>
              ) : samePerson({ accountId: r.requester.accountId, person: r.requester.person }, me) ? (
                <WithdrawForm id={r.id} withdraw={withdrawAction} />
              ) : (
                <DecisionForms id={r.id} approve={approveAction} reject={rejectAction} />
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function FlaggedEmergencies({ flagged }: { flagged: Awaited<ReturnType<typeof flaggedEmergencies>> }) {
  if (!flagged.length) return null;
  return (
    <section className="card" aria-labelledby="emergency-title">
      <div className="card-head">
        <h2 id="emergency-title">Emergency rollbacks to review</h2>
        <span className="muted">applied without a second releaser</span>
      </div>
      <ul className="plain-list">
        {flagged.map((e) => (
          <li key={e.id}>
            <span className="badge badge-warn">needs review</span> <time dateTime={e.at}>{fmtTime(e.at)}</time> {e.actor} rolled back{" "}
            <span className="mono">{e.fromStem ?? "—"}</span> → <span className="mono">{e.toStem ?? "—"}</span>
            {e.reason ? <span className="muted"> — {e.reason}</span> : null}{" "}
            <Link href={`/audit?action=model.rolled_back&version=${encodeURIComponent(e.toStem ?? "")}`}>in the audit log</Link>
          </li>
        ))}
      </ul>
    </section>
  );
}

function RecentlyDecided({ closed }: { closed: Awaited<ReturnType<typeof closedRequests>> }) {
  return (
    <section className="card" aria-labelledby="closed-title">
      <h2 id="closed-title">Recently decided</h2>
      {closed.length === 0 ? (
        <p className="muted">Nothing decided yet.</p>
      ) : (
        <ScrollBox label="Recently decided requests">
          <table className="requests-table">
            <caption className="sr-only">The latest decided requests, newest first</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Change</th>
                <th scope="col">State</th>
                <th scope="col">Asked by</th>
                <th scope="col">Decided by</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {closed.map((r) => (
                <tr key={r.id}>
                  <td className="mono">{r.id}</td>
                  <td>
                    {r.kind === "promote" ? "Promote" : "Roll back to"} <span className="mono">{r.targetStem}</span>
                  </td>
                  <td>
                    <span className={`badge ${STATE_BADGE[r.state] ?? ""}`}>{r.state}</span>
                  </td>
                  <td>{r.requester.username}</td>
                  <td>
                    {r.decider ? r.decider.username : "—"} {r.decidedAt ? <span className="muted">{fmtTime(r.decidedAt)}</span> : null}
                  </td>
                  <td>{r.outcome ?? r.decisionReason ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
    </section>
  );
}

function SettingsCard({ settings, admin }: { settings: Awaited<ReturnType<typeof readSettings>>; admin: boolean }) {
  return (
    <section className="card" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <SettingsFacts settings={settings} />
      {admin ? (
        <ApprovalSettingsForm
          action={settingsAction}
          fields={APPROVAL_SETTING_KEYS.map(
            (key): SettingField => ({
              key,
              label: SETTINGS[key].label,
              value: String(settings[key].value),
              pinnedBy: settings[key].source === "env" ? SETTINGS[key].env : null,
            }),
          )}
        />
      ) : (
        <p className="muted">Admins change these here; an environment variable, when set, pins a setting.</p>
      )}
    </section>
  );
}
