import type { InspectionReport, PickleGlobal } from "@/lib/inspect";
import { fmtBytes } from "@/lib/views/format";
import { ScrollBox } from "./scroll-box";

const VERDICT: Record<InspectionReport["verdict"], { label: string; tone: string; meaning: string }> = {
  safe: {
    label: "Safe",
    tone: "badge-good",
    meaning:
      "Every global the pickle imports is on the allowlist of scikit-learn, XGBoost, numpy, scipy and joblib names, or trusted by registry policy.",
  },
  unsafe: {
    label: "Unsafe",
    tone: "badge-bad",
    meaning: "Loading this file would import something off the allowlist: it can never be promoted.",
  },
  malformed: { label: "Malformed", tone: "badge-bad", meaning: "The file is not a well-formed pickle: it can never be promoted." },
  unsupported: {
    label: "Unsupported",
    tone: "badge-warn",
    meaning: "The container is one the inspector cannot read, so it cannot vouch for it.",
  },
};

const TONE: Record<PickleGlobal["status"], string> = {
  allowed: "badge-good",
  trusted: "badge-good",
  unknown: "badge-warn",
  dangerous: "badge-bad",
};

/** A global's status; one an admin trusted says so, by whom and when, apart from the built-in allowlist. */
function GlobalStatusBadge({ global: g }: { global: PickleGlobal }) {
  const badge = <span className={`badge ${TONE[g.status]}`}>{g.status === "trusted" ? "trusted" : g.status}</span>;
  if (g.status !== "trusted" || !g.trust) return badge;
  return (
    <>
      {badge}{" "}
      <span className="muted" data-testid="trusted-by">
        trusted by registry policy (by {g.trust.by}, {g.trust.at.slice(0, 16).replace("T", " ")} UTC)
      </span>
    </>
  );
}

/** What the static inspector found in a model file: its verdict and every global it would import. */
export function InspectionCard({ report }: { report: InspectionReport }) {
  const v = VERDICT[report.verdict];
  return (
    <section className="card" aria-labelledby="inspection-title">
      <div className="card-head">
        <h2 id="inspection-title">Model file inspection</h2>
        <span className={`badge ${v.tone}`}>{v.label}</span>
        <span className="muted">read statically, never unpickled</span>
      </div>
      <p>
        {report.reason} {v.meaning}
      </p>
      <p className="muted">
        Container {report.container}
        {report.protocol !== null ? `, pickle protocol ${report.protocol}` : ""}, {fmtBytes(report.compressedSize)}
        {report.decompressedSize !== null ? ` (${fmtBytes(report.decompressedSize)} decompressed)` : ""}
        {report.schema.modelClass ? `; model ${report.schema.modelClass}` : ""}
        {report.schema.finalEstimator ? ` ending in ${report.schema.finalEstimator}` : ""}.
      </p>
      <ScrollBox label="Globals the pickle imports">
        <table className="globals">
          <caption>Globals the pickle imports ({report.globals.length})</caption>
          <thead>
            <tr>
              <th scope="col">Module</th>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {report.globals.map((g) => (
              <tr key={`${g.module}.${g.name}`}>
                <td className="mono">{g.module}</td>
                <td className="mono">
                  {g.name}
                  {g.nested ? <span className="muted"> (inside an object array)</span> : null}
                </td>
                <td>
                  <GlobalStatusBadge global={g} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollBox>
    </section>
  );
}
