import Link from "next/link";
import type { LivePeriod } from "@/lib/registry/live-history";
import { ScrollBox } from "./scroll-box";

/** An instant to the second, "2026-03-01 12:00:03 UTC": an audit answer needs more than minutes. */
export function fmtSecond(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

const HOW: Record<string, string> = { promoted: "promoted", rolled_back: "rolled back" };

/** Who put a period's content live and how, in words. */
export function putThereBy(p: LivePeriod): string {
  if (p.start.how === "before_log") return "before the log began";
  if (p.start.how === "outside_registry") return "outside the registry (a hand copy)";
  const c = p.start.change;
  return `${c.actor} · ${HOW[p.start.how]}${c.recovered ? ", completed at start-up" : ""} (#${c.seq})`;
}

/** The version cell: "before the log began: <stem> (by content hash)" for the alias the log found first. */
export function periodVersion(p: LivePeriod, link = true): React.ReactNode {
  const unnamed = p.sha256 ? "unnamed bytes" : "nothing (no alias)";
  const inText = p.start.how === "before_log";
  // Inside a sentence a link is underlined: colour alone does not set it apart.
  const name = !p.stem ? (
    unnamed
  ) : link ? (
    <Link href={`/versions/${p.stem}`} prefetch={false} className={inText ? "in-text" : undefined}>
      {p.stem}
    </Link>
  ) : (
    p.stem
  );
  if (inText) return <>before the log began: {name} (by content hash)</>;
  return name;
}

export function periodSince(p: LivePeriod): string {
  if (p.start.how === "before_log") return "before the log began";
  if (p.start.how === "outside_registry") return `some time after ${fmtSecond(p.start.after)}`;
  return p.since ? fmtSecond(p.since) : "—";
}

export function periodUntil(p: LivePeriod): string {
  if (p.until === null) return "now";
  return p.endedOutside ? `some time before ${fmtSecond(p.until)} (replaced outside the registry)` : fmtSecond(p.until);
}

/**
 * Periods of production as a table: which bytes (stem and sha256), from and until when to the second, who
 * put them there and why. The "before the log began" period is named as such. No state: server or client.
 */
export function LivePeriods(props: {
  /** Newest first; "gap" marks changes left out between two periods. */
  periods: (LivePeriod | "gap")[];
  caption: string;
  score?: boolean;
  link?: boolean;
  className?: string;
}) {
  const { periods, score = false, link = true } = props;
  const columns = score ? 7 : 6;
  return (
    <ScrollBox label={props.caption}>
      <table className={props.className ?? "timeline"}>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Version live</th>
            <th scope="col">sha256</th>
            {score ? (
              <th scope="col" className="num">
                Score
              </th>
            ) : null}
            <th scope="col">From</th>
            <th scope="col">Until</th>
            <th scope="col">Put there by</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {periods.map((p) => {
            if (p === "gap") {
              return (
                <tr key="gap" className="muted">
                  <td colSpan={columns}>⋯ earlier changes not shown: ask for a date-time to see what was live then</td>
                </tr>
              );
            }
            const change = p.start.how === "promoted" || p.start.how === "rolled_back" ? p.start.change : null;
            return (
              <tr key={`${p.start.how}-${change?.seq ?? p.since ?? "start"}-${p.until ?? "now"}`} data-period={p.start.how}>
                <td className="mono">{periodVersion(p, link)}</td>
                <td className="mono" title={p.sha256 ?? undefined}>
                  {p.sha256 ? `${p.sha256.slice(0, 12)}…` : "—"}
                </td>
                {score ? <td className="num">{change?.score != null ? `${change.score.toFixed(4)} ${change.metric ?? ""}` : "—"}</td> : null}
                <td>{periodSince(p)}</td>
                <td>{periodUntil(p)}</td>
                <td>{putThereBy(p)}</td>
                <td>{change?.reason ?? <span className="muted">—</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </ScrollBox>
  );
}
