import { fmtCount } from "@/lib/views/format";

/** One term and its value in a facts list; a missing value reads as a muted dash. */
export function Fact(props: { term: string; value: string | null | undefined; mono?: boolean; wrap?: boolean }) {
  const cls = [props.mono ? "mono" : "", props.wrap ? "wrap" : ""].join(" ").trim();
  return (
    <>
      <dt>{props.term}</dt>
      <dd className={cls || undefined}>{props.value ?? <span className="muted">—</span>}</dd>
    </>
  );
}

/** "N more …" under a bounded table, with the file itself to download. */
export function More(props: { count: number; noun: string; testId: string; download: string | null }) {
  if (props.count <= 0) return null;
  return (
    <p className="muted" data-testid={props.testId}>
      {fmtCount(props.count)} more {props.noun} not shown.{" "}
      {props.download && (
        <a href={props.download} download>
          Download the metrics file
        </a>
      )}
    </p>
  );
}

/** The tone class of a signed change: green up, red down, plain for none. */
export const deltaTone = (d: number | null) => (d !== null && d < 0 ? "delta-bad" : d !== null && d > 0 ? "delta-good" : "");
