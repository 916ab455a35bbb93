// Shared by server pages and client leaves: output must be identical on both sides (no locale or time
// zone of the machine involved), or hydration would mismatch.

/** A metric with fixed 4 decimals, or "—" when missing. Pure. */
export function fmtMetric(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(4);
}

/** A signed delta with fixed 4 decimals ("+0.0853", "−0.0120"), or "—". Pure. */
export function fmtDelta(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  const fixed = Math.abs(n).toFixed(4);
  if (fixed === "0.0000") return "±0.0000";
  return `${n > 0 ? "+" : "−"}${fixed}`;
}

/** A count with thousands separators, or "—". Pure. */
export function fmtCount(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : n.toLocaleString("en-US");
}

/** An ISO instant as "2025-03-05 10:10 UTC": sortable, unambiguous and the same on every machine. Pure. */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** A byte count in the unit people read ("2.5 KiB"), exact bytes stay available elsewhere. Pure. */
export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** How long ago an instant was, relative to `now`, in whole units ("3 days ago"). Pure. */
export function fmtAgo(iso: string, now: Date): string {
  const s = Math.round((now.getTime() - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(s)) return "";
  if (s < 60) return "just now";
  const units: [number, string][] = [
    [60 * 60 * 24 * 365, "year"],
    [60 * 60 * 24 * 30, "month"],
    [60 * 60 * 24, "day"],
    [60 * 60, "hour"],
    [60, "minute"],
  ];
  for (const [size, name] of units) {
    if (s >= size) {
      const n = Math.floor(s / size);
      return `${n} ${name}${n === 1 ? "" : "s"} ago`;
    }
  }
  return "";
}
