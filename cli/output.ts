import type { Check, Plan, Snapshot, Version } from "@/lib/registry";
import { fmt } from "@/lib/registry";
import { fmtCount } from "@/lib/views/format";
import { type BoundedEntries, clip, entriesOf, MAX_VALUE_CHARS } from "@/lib/views/json-display";

/** Plain-text renderings for people at a terminal; `--json` output is built in commands.ts. */
export function renderList(s: Snapshot): string {
  const lines: string[] = [];
  lines.push(`Registry ${s.root}`);
  lines.push(`Production: ${s.production.stem ?? "—"} [${s.production.state}] ${s.production.explanation}`);
  if (s.production.action) lines.push(`  → ${s.production.action}`);
  lines.push(`Best: ${s.best ?? "— (no version has a score)"}`);
  lines.push("");
  const rows = [
    ["", "VERSION", "TYPE", "TRAINED (UTC)", "SCORE", "METRIC", "SHA256"],
    ...s.versions.map((v) => [
      marks(v),
      v.stem,
      v.modelType,
      v.timestamp,
      v.metric === "unknown" ? "—" : v.score.toFixed(4),
      v.metric,
      v.sha256.slice(0, 12),
    ]),
  ];
  lines.push(...table(rows));
  lines.push("", "* production   + best");
  if (s.problems.length) {
    lines.push("", `Problems (${s.problems.length}):`);
    for (const p of s.problems) lines.push(`  ${p.file}: [${p.reason}] ${p.message}`);
  }
  return lines.join("\n");
}

/**
 * One version for a terminal. Bounded whatever its metrics file holds: at most MAX_ROWS metrics and
 * hyperparameters, long keys and values cut, values nested too deeply named as such; `--json` has the rest.
 */
export function renderVersion(v: Version, checks: Check[]): string {
  const m = v.metrics;
  const out = [
    `${v.stem}${v.isProduction ? "  (production)" : ""}${v.isBest ? "  (best)" : ""}`,
    `  model type   ${v.modelType}`,
    `  trained at   ${v.timestamp}`,
    `  model file   ${v.modelFile}  ${v.size} bytes  sha256 ${v.sha256}`,
    `  metrics      ${v.metricsFile ?? "— none"}${v.metricsError ? `  (${v.metricsError})` : ""}`,
    `  score        ${v.metric === "unknown" ? "—" : fmt(v.score)} (${v.metric})`,
  ];
  if (m) {
    for (const [k, val] of Object.entries(m.meta)) if (val !== null) out.push(`  ${k.padEnd(12)} ${clip(String(val), MAX_VALUE_CHARS)}`);
    const see = `see ${v.metricsFile ?? "the metrics file"}`;
    out.push("  metrics:", ...section(entriesOf(m.metrics), "metrics", see));
    // Hyperparameters as JSON, as written: a string is quoted.
    if (m.hyperparameters) out.push("  hyperparameters:", ...section(entriesOf(m.hyperparameters, { json: true }), "hyperparameters", see));
  }
  out.push("  checks against production:", ...renderChecks(checks));
  return out.join("\n");
}

function section(entries: BoundedEntries, noun: string, see: string): string[] {
  const lines = entries.rows.map(([k, text]) => `    ${k.padEnd(16)} ${text}`);
  if (entries.more > 0) lines.push(`    … ${fmtCount(entries.more)} more ${noun}: ${see}`);
  return lines;
}

export function renderPlan(plan: Plan, dryRun: boolean): string {
  const verb = plan.kind === "rollback" ? "Roll back" : "Promote";
  const out = [
    `${dryRun ? "[dry run] " : ""}${verb} ${plan.target.stem} (${plan.target.metric} ${plan.target.metric === "unknown" ? "—" : fmt(plan.target.score)})`,
    `  production now: ${plan.current.stem ?? "—"} [${plan.current.state}]`,
  ];
  if (plan.noop) out.push("  already in production with a consistent alias pair: nothing to do.");
  for (const f of plan.files) {
    out.push(`  ${f.alias} ← ${f.source}`, `      ${short(f.currentSha256)} → ${short(f.newSha256)}`);
  }
  out.push("  checks:", ...renderChecks(plan.checks));
  if (plan.refusal) out.push(`  ${plan.refusal}`);
  return out.join("\n");
}

function renderChecks(checks: Check[]): string[] {
  return checks.map((c) => {
    const mark = c.skipped ? "skip" : c.passed ? "pass" : c.overridden ? "OVERRIDDEN" : "FAIL";
    return `    ${mark.padEnd(10)} ${c.name.padEnd(18)} ${c.detail}${c.overridden ? ` — override reason: ${c.overrideReason}` : ""}`;
  });
}

function marks(v: Version): string {
  return `${v.isProduction ? "*" : " "}${v.isBest ? "+" : " "}`;
}

function short(sha: string | null): string {
  return sha ? sha.slice(0, 12) : "(none)";
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd(),
  );
}
