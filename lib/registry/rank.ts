import { UNKNOWN_METRIC } from "./metrics";

/** What ranking reads of a version: its score, what it is a score of, and when it was trained. */
export interface Ranked {
  score: number;
  metric: string;
  /** Anything ordered as the instants are (ISO or compact timestamps: never the two mixed). */
  timestamp: string;
}

/**
 * True when `a` ranks above `b`: the higher score, ties to the newer timestamp. A version without a known
 * metric ranks below everything. The one tie-break of the registry. Pure.
 */
export function outranks(a: Ranked, b: Ranked | null): boolean {
  if (a.metric === UNKNOWN_METRIC) return false;
  if (b === null || b.metric === UNKNOWN_METRIC) return true;
  return a.score > b.score || (a.score === b.score && a.timestamp > b.timestamp);
}

/** The index of the best of n candidates (see outranks), or -1 when none has a score. Pure. */
export function bestIndex(n: number, at: (i: number) => Ranked): number {
  let best = -1;
  let top: Ranked | null = null;
  for (let i = 0; i < n; i++) {
    const r = at(i);
    if (outranks(r, top)) {
      best = i;
      top = r;
    }
  }
  return best;
}
