#!/usr/bin/env node
// Runs the inspector over every dump gen-allowlist.py made and compares with what Python recorded:
//
//   /usr/bin/python3 lib/inspect/tools/gen-allowlist.py /tmp/gen && node lib/inspect/tools/check-generated.mjs /tmp/gen
//
// Each dump must be safe, name exactly the globals joblib imported, and read the payload's schema.
// Prints a summary and the throughput; exits 1 on any mismatch.
import { readFileSync } from "node:fs";
import path from "node:path";
import { loadInspector } from "./load-inspector.mjs";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: check-generated.mjs GEN_DIR");
  process.exit(2);
}
const { inspectBytes } = await loadInspector();
const { records } = JSON.parse(readFileSync(path.join(dir, "models.json"), "utf8"));

const bad = [];
let bytes = 0;
let ms = 0;
const verdicts = {};
for (const r of records) {
  const data = readFileSync(path.join(dir, "models", r.file));
  const started = performance.now();
  const report = inspectBytes(data);
  ms += performance.now() - started;
  bytes += data.length;
  verdicts[report.verdict] = (verdicts[report.verdict] ?? 0) + 1;
  // Both sides name globals as written in the stream (find_class sees them before its 2 -> 3 renames).
  const seen = [...new Set(report.globals.map((g) => `${g.module}.${g.name}`))].sort();
  const expected = [...new Set(r.globals.map((g) => g))].sort();
  const problems = [];
  if (report.verdict !== "safe") problems.push(`${report.verdict}: ${report.reason}`);
  if (JSON.stringify(seen) !== JSON.stringify(expected))
    problems.push(`globals differ: +${seen.filter((g) => !expected.includes(g))} -${expected.filter((g) => !seen.includes(g))}`);
  const s = report.schema;
  if (!s.modelClass || s.catCols?.[0] !== "plan" || s.numCols?.length !== 3) problems.push(`schema not read: ${JSON.stringify(s)}`);
  if (problems.length) bad.push(`${r.file}: ${problems.join("; ")}`);
}
console.log(`${records.length} dumps, ${(bytes / 1e6).toFixed(1)} MB: ${JSON.stringify(verdicts)}; ${bad.length} problems`);
console.log(
  `inspection throughput on the generated models: ${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s (${ms.toFixed(0)} ms, one pass)`,
);
for (const line of bad.slice(0, 40)) console.log(`  ${line}`);
process.exit(bad.length ? 1 : 0);
