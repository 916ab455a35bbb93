import Link from "next/link";
import type { Version } from "@/lib/registry";
import type { Comparison, CompareRow } from "@/lib/views/compare";
import { versionHref } from "@/lib/views/links";

const SECTIONS: { id: CompareRow["section"]; title: string }[] = [
  { id: "metrics", title: "Metrics" },
  { id: "metadata", title: "Metadata" },
  { id: "hyperparameters", title: "Hyperparameters" },
];

/** Versions side by side, a section at a time; rows that differ are marked, the best value of a metric starred. */
export function CompareTable(props: { shown: readonly Version[]; comparison: Comparison; hrefWithout: (stem: string) => string }) {
  const { shown, comparison } = props;
  return (
    <table className="compare-table">
      <thead>
        <tr>
          <th scope="col">Field</th>
          {shown.map((v) => (
            <th scope="col" key={v.stem} className="compare-col">
              <Link href={versionHref(v.stem)} className="mono">
                {v.stem}
              </Link>
              <div className="badges">
                {v.isProduction && <span className="badge badge-good">Production</span>}
                {v.isBest && <span className="badge badge-accent">Best</span>}
                <Link href={props.hrefWithout(v.stem)} className="remove-link" aria-label={`Remove ${v.stem} from the comparison`}>
                  remove
                </Link>
              </div>
            </th>
          ))}
        </tr>
      </thead>
      {SECTIONS.map((section) => {
        const rows = comparison.rows.filter((r) => r.section === section.id);
        if (rows.length === 0) return null;
        return (
          <tbody key={section.id} data-all-same={rows.every((r) => !r.differs) ? "true" : "false"}>
            <tr className="section-row">
              <th scope="colgroup" colSpan={shown.length + 1}>
                {section.title}
              </th>
            </tr>
            {rows.map((r) => (
              <CompareRowView key={`${r.section}:${r.key}`} row={r} stems={comparison.stems} />
            ))}
          </tbody>
        );
      })}
    </table>
  );
}

function CompareRowView({ row: r, stems }: { row: CompareRow; stems: readonly string[] }) {
  return (
    <tr data-same={r.differs ? "false" : "true"} className={r.differs ? "differs" : undefined}>
      <th scope="row">
        {r.label}
        {r.differs && <span className="sr-only"> (differs)</span>}
      </th>
      {r.display.map((text, i) => {
        const best = r.best.includes(i);
        return (
          <td
            key={stems[i]}
            className={`${typeof r.values[i] === "number" ? "num" : ""} ${best ? "best-cell" : ""} ${r.key === "sha256" ? "mono wrap-hash" : ""}`}
          >
            {r.key === "sha256" && typeof r.values[i] === "string" ? (
              <span title={text}>{text.slice(0, 12)}…</span>
            ) : text.length > 40 ? (
              <span className="cell-text">{text}</span>
            ) : (
              text
            )}
            {best && (
              <>
                {" "}
                <span aria-hidden="true">★</span>
                <span className="sr-only">(best)</span>
              </>
            )}
          </td>
        );
      })}
    </tr>
  );
}
