import type { Check, HashedVersion, LivePeriod, LoadedVersion, Plan, ProductionAt, Snapshot, Version } from "@/lib/registry";
import { fmt } from "@/lib/registry";
import { fmtCount } from "@/lib/views/format";
import { type BoundedEntries, clip, entriesOf, MAX_VALUE_CHARS } from "@/lib/views/json-display";

/** Plain-text renderings for people at a terminal; `--json` output is built in commands.ts. */
export function renderList(s: Snapshot<HashedVersion>): string {
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

/** The metrics file's metadata as the terminal names it: model_type is the estimator, not the name's prefix. */
const META_LABEL: Record<string, string> = {
  modelType: "estimator",
  trainedBy: "trained by",
  gitCommit: "git commit",
  dataVersion: "data version",
  trainRows: "train rows",
  testRows: "test rows",
  churnRateTrain: "churn train",
  churnRateTest: "churn test",
};

/**
 * One version for a terminal. Bounded whatever its metrics file holds: at most MAX_ROWS metrics and
 * hyperparameters, long keys and values cut, values nested too deeply named as such; `--json` has the rest.
 */
export function renderVersion(v: LoadedVersion, checks: Check[]): string {
  const m = v.metrics;
  const out = [
    `${v.stem}${v.isProduction ? "  (production)" : ""}${v.isBest ? "  (best)" : ""}`,
    `  model type   ${v.modelType}  (from the name)`,
    `  trained at   ${m?.meta.trainedAt ?? v.timestamp}`,
    `  model file   ${v.modelFile}  ${v.size} bytes  sha256 ${v.sha256}`,
    `  metrics      ${v.metricsFile ?? "— none"}${v.metricsError ? `  (${v.metricsError})` : ""}`,
    `  score        ${v.metric === "unknown" ? "—" : fmt(v.score)} (${v.metric})`,
  ];
  if (m) {
    for (const [k, val] of Object.entries(m.meta)) {
      if (val !== null && k !== "trainedAt") out.push(`  ${(META_LABEL[k] ?? k).padEnd(12)} ${clip(String(val), MAX_VALUE_CHARS)}`);
    }
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
  const verb = plan.kind === "rollback" ? "Roll back to" : "Promote";
  const out = [
    `${dryRun ? "[dry run] " : ""}${verb} ${plan.target.stem} (${plan.target.metric} ${plan.target.metric === "unknown" ? "—" : fmt(plan.target.score)})`,
    `  production now: ${plan.current.stem ?? "—"} [${plan.current.state}]`,
  ];
  if (plan.noop) out.push("  already in production with a consistent alias pair: nothing to do.");
  for (const f of plan.files) {
    out.push(`  ${f.alias} ← ${f.source}`, `      ${short(f.currentSha256)} → ${short(f.newSha256)}`);
  }
  if (plan.rollback) {
    const r = plan.rollback;
    out.push(`  live history of ${plan.target.stem} (by content hash, from the audit log):`);
    if (r.periods.length === 0) out.push("    none recorded");
    for (const p of r.periods) out.push(`    ${renderPeriod(p)}`);
    if (r.total > r.periods.length) out.push(`    … and ${r.total - r.periods.length} earlier`);
  }
  out.push("  checks:", ...renderChecks(plan.checks));
  if (plan.refusal) out.push(`  ${plan.refusal}`);
  if (plan.refusalCode === "never_live") {
    out.push(`  → promote it instead, with every readiness check: registry promote --version ${plan.target.stem} --dry-run`);
  }
  return out.join("\n");
}

/** One period of production on a line: from, until, what, who and why. */
export function renderPeriod(p: LivePeriod): string {
  const since =
    p.start.how === "before_log"
      ? "before the log began"
      : p.start.how === "outside_registry"
        ? `after ${second(p.start.after)} (outside the registry)`
        : second(p.since);
  const until = p.until === null ? "now" : `${p.endedOutside ? "before " : ""}${second(p.until)}`;
  const change = p.start.how === "promoted" || p.start.how === "rolled_back" ? p.start.change : null;
  const who = change
    ? `${p.start.how === "promoted" ? "promoted" : "rolled back"} by ${change.actor} (#${change.seq}${change.recovered ? ", completed at start-up" : ""})${change.reason ? ` “${change.reason}”` : ""}`
    : p.start.how === "before_log"
      ? "live when the log began"
      : "put there by hand";
  return `${since} → ${until}  ${p.stem ?? "(unnamed)"}  ${short(p.sha256)}  ${who}`;
}

/** The answer to `audit production --at`, for a terminal. */
export function renderProductionAt(instant: string, answer: ProductionAt): string {
  if (answer.status === "no_record") {
    return `Production at ${second(instant)}: the audit log records no change of production, so it cannot say.`;
  }
  const p = answer.period;
  const lines =
    p.start.how === "before_log"
      ? [
          `Production at ${second(instant)}: before the log began: ${p.stem ?? "(unnamed)"} (by content hash)`,
          `  sha256   ${p.sha256 ?? "—"}`,
          `  until    ${p.until ? second(p.until) : "now"} (the first logged change replaced it)`,
        ]
      : [
          `Production at ${second(instant)}: ${p.stem ?? "(unnamed)"}`,
          `  sha256   ${p.sha256 ?? "—"}`,
          `  since    ${second(p.since)}`,
          `  until    ${p.until ? `${p.endedOutside ? "some time before " : ""}${second(p.until)}` : "now"}`,
        ];
  if (p.start.how === "promoted" || p.start.how === "rolled_back") {
    const c = p.start.change;
    lines.push(
      `  by       ${c.actor} (${p.start.how === "promoted" ? "promoted" : "rolled back"}${c.recovered ? ", completed at start-up" : ""}, event #${c.seq})`,
      `  why      ${c.reason ?? "—"}`,
    );
  }
  if (answer.uncertain) {
    lines.push(
      `  note     the alias was changed outside the registry before ${second(answer.uncertain.until)}: by then it held ${answer.uncertain.stem ?? "other bytes"} (${short(answer.uncertain.sha256)}), at a time the log does not know`,
    );
  }
  return lines.join("\n");
}

function second(iso: string | null): string {
  return iso ? `${iso.slice(0, 19).replace("T", " ")} UTC` : "—";
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
