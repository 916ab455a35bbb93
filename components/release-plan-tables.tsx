import type { Plan } from "@/lib/registry/plan";
import { type CheckTone, checkTone } from "@/lib/views/check-status";
import { fmtCount, fmtDelta, fmtMetric } from "@/lib/views/format";
import { clip, MAX_KEY_CHARS } from "@/lib/views/json-display";
import { ScrollBox } from "./scroll-box";
import { deltaTone } from "./version/facts";
import { LoadFacts } from "./version/readiness-card";

// Each tone in words and colour: "not run" is amber (the load check could not run), never a green pass.
const RESULT: Record<CheckTone, { className: string; text: string }> = {
  passed: { className: "check-pass", text: "pass" },
  failed: { className: "check-fail", text: "fail" },
  not_run: { className: "check-notrun", text: "not run" },
  not_run_blocks: { className: "check-fail", text: "not run (required)" },
  running: { className: "check-running", text: "running…" },
  skipped: { className: "check-skip", text: "skipped" },
};

// The release dialog's three tables, each under its own heading: the files a change replaces, the metrics
// against production, and the readiness checks with their overrides.

const short = (sha: string | null) => (sha ? `${sha.slice(0, 12)}…` : "(none)");

export function PlanFiles({ files }: { files: Plan["files"] }) {
  if (!files.length) return null;
  return (
    <section className="release-section" aria-labelledby="release-files-title">
      <h3 id="release-files-title">Files that will be replaced</h3>
      <ScrollBox label="Files that will be replaced">
        <table className="release-files" aria-labelledby="release-files-title">
          <thead>
            <tr>
              <th scope="col">Alias</th>
              <th scope="col">Copied from</th>
              <th scope="col">sha256</th>
            </tr>
          </thead>
          <tbody>
            {files.map((f) => (
              <tr key={f.alias}>
                <td className="mono">{f.alias}</td>
                <td className="mono">{f.source}</td>
                <td className="mono sha-change" title={`${f.currentSha256 ?? "none"} → ${f.newSha256}`}>
                  <span>now {short(f.currentSha256)}</span> <span>after {short(f.newSha256)}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollBox>
    </section>
  );
}

export function PlanMetrics({ plan }: { plan: Plan }) {
  if (!plan.metricChanges.length) return null;
  return (
    <section className="release-section" aria-labelledby="release-metrics-title">
      <h3 id="release-metrics-title">Metrics against production</h3>
      {plan.metricChangesOmitted > 0 ? (
        <p className="muted">
          The first {fmtCount(plan.metricChanges.length)}; {fmtCount(plan.metricChangesOmitted)} more not shown.
        </p>
      ) : null}
      <ScrollBox label="Metrics against production">
        <table className="release-metrics" aria-labelledby="release-metrics-title">
          <thead>
            <tr>
              <th scope="col">Metric</th>
              <th scope="col" className="num">
                Production
              </th>
              <th scope="col" className="num">
                {plan.kind === "promote" ? "Candidate" : "Rollback target"}
              </th>
              <th scope="col" className="num">
                Δ
              </th>
            </tr>
          </thead>
          <tbody>
            {plan.metricChanges.map((m) => (
              <tr key={m.metric}>
                <td className="mono">{clip(m.metric, MAX_KEY_CHARS)}</td>
                <td className="num">{fmtMetric(m.from)}</td>
                <td className="num">{fmtMetric(m.to)}</td>
                <td className={`num ${deltaTone(m.delta)}`}>{fmtDelta(m.delta)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollBox>
    </section>
  );
}

export function PlanChecks(props: { checks: Plan["checks"]; overrides: string[]; setOverrides: (f: (o: string[]) => string[]) => void }) {
  const { checks, overrides, setOverrides } = props;
  return (
    <section className="release-section" aria-labelledby="release-checks-title">
      <h3 id="release-checks-title">Readiness checks</h3>
      <ScrollBox label="Readiness checks">
        <table className="release-checks" aria-labelledby="release-checks-title">
          <thead>
            <tr>
              <th scope="col">Check</th>
              <th scope="col">Result</th>
              <th scope="col">Evidence</th>
            </tr>
          </thead>
          <tbody>
            {checks.map((c) => {
              const result = RESULT[checkTone(c)];
              return (
                <tr key={c.name} data-check={c.name}>
                  <td className="mono">{c.name}</td>
                  <td className={result.className}>
                    {result.text}
                    {!c.passed && c.overridable && checkTone(c) !== "running" ? " (overridable)" : ""}
                  </td>
                  <td>
                    {c.detail}
                    <LoadFacts check={c} />
                    {!c.passed && c.overridable && c.evidence.status !== "running" ? (
                      <label className="override">
                        <input
                          type="checkbox"
                          name="override"
                          value={c.name}
                          checked={overrides.includes(c.name)}
                          onChange={(e) => setOverrides((o) => (e.target.checked ? [...o, c.name] : o.filter((x) => x !== c.name)))}
                        />{" "}
                        Override {c.name}
                      </label>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollBox>
    </section>
  );
}
