import type { Check } from "@/lib/registry/checks";
import type { JsonValue } from "@/lib/registry/metrics";

// How a readiness check reads on a page: passed (green), failed (red), skipped (grey), and for the load
// check, not run (amber: no serving Python, no sandbox, switched off) or still running.

export type CheckTone = "passed" | "failed" | "not_run" | "not_run_blocks" | "running" | "skipped";

/** A check's tone: a "not run" that the registry's setting makes blocking reads as a failure would. Pure. */
export function checkTone(c: Pick<Check, "passed" | "skipped" | "evidence">): CheckTone {
  if (c.skipped) return "skipped";
  if (c.evidence.status === "running") return "running";
  if (c.evidence.status === "not_run") return c.passed ? "not_run" : "not_run_blocks";
  return c.passed ? "passed" : "failed";
}

export const TONE_LABEL: Record<CheckTone, string> = {
  passed: "✓ Passed",
  failed: "✗ Failed",
  not_run: "! Not run",
  not_run_blocks: "✗ Not run",
  running: "… Running",
  skipped: "Skipped",
};

/** The badge class of each tone: amber for a check that did not run, so it never reads as a pass. */
export const TONE_BADGE: Record<CheckTone, string> = {
  passed: "badge-good",
  failed: "badge-bad",
  not_run: "badge-warn",
  not_run_blocks: "badge-bad",
  running: "badge-muted",
  skipped: "badge-muted",
};

const str = (v: JsonValue | undefined): string | null => (typeof v === "string" && v ? v : typeof v === "number" ? String(v) : null);

/**
 * What the sandboxed load saw, as short labelled facts for people: the serving Python's versions, the load
 * and predict times, the output's shape and range. Empty when it did not run. Pure.
 */
export function loadCheckFacts(evidence: Record<string, JsonValue>): [string, string][] {
  if (evidence.ran !== true) return [];
  const v = (
    evidence.versions && typeof evidence.versions === "object" && !Array.isArray(evidence.versions) ? evidence.versions : {}
  ) as Record<string, JsonValue>;
  const out: [string, string][] = [];
  const versions = [
    ["Python", str(v.python)],
    ["scikit-learn", str(v.sklearn)],
    ["joblib", str(v.joblib)],
  ].flatMap(([name, value]) => (value ? [`${name} ${value}`] : []));
  if (versions.length) out.push(["Environment", versions.join(" · ")]);
  if (str(evidence.loadMs)) out.push(["Load", `${str(evidence.loadMs)} ms`]);
  if (str(evidence.predictMs)) out.push([str(evidence.method) ?? "Predict", `${str(evidence.predictMs)} ms`]);
  if (Array.isArray(evidence.outputShape)) {
    const range =
      typeof evidence.min === "number" && typeof evidence.max === "number"
        ? ` in [${evidence.min.toFixed(4)}, ${evidence.max.toFixed(4)}]`
        : "";
    out.push(["Output", `${evidence.outputShape.join("×")}${range}`]);
  }
  if (str(evidence.python)) out.push(["Interpreter", str(evidence.python)!]);
  return out;
}
