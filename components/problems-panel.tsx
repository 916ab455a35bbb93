import type { Problem } from "@/lib/registry";

const REASON_LABEL: Record<Problem["reason"], string> = {
  orphan_metrics: "Orphan metrics",
  bad_name: "Bad name",
  bad_timestamp: "Bad timestamp",
  invalid_json: "Broken JSON",
  not_object: "Not a JSON object",
  unreadable: "Unreadable",
  symlink: "Symbolic link",
  not_regular_file: "Not a regular file",
  too_large: "Too large",
  unexpected_file: "Unexpected file",
  temp_file: "Temporary file",
};

/** Every file that is not a usable version, with the reason, so nobody wonders where their run went. */
export function ProblemsPanel({ problems }: { problems: readonly Problem[] }) {
  return (
    <section className="card" aria-labelledby="problems-title" id="problems">
      <div className="card-head">
        <h2 id="problems-title">Problems</h2>
        <span className={`badge ${problems.length ? "badge-warn" : "badge-good"}`}>
          {problems.length === 0 ? "none" : `${problems.length} file${problems.length === 1 ? "" : "s"}`}
        </span>
      </div>
      {problems.length === 0 ? (
        <p className="muted">Every file in the registry is part of a usable version.</p>
      ) : (
        <ul className="problems">
          {problems.map((p) => (
            <li key={`${p.file}:${p.reason}`} data-testid="problem">
              <span className="badge badge-warn">{REASON_LABEL[p.reason] ?? p.reason}</span> <code className="problem-file">{p.file}</code>
              <p>{p.message}</p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
