#!/usr/bin/env node
// Runs the inspector over the peer scanners' test corpora (picklescan, fickling, modelscan), read in place
// from a folder outside the repository (never copied in), and counts against each corpus' cases.json:
//
//   node lib/inspect/tools/eval-peers.mjs DIR     (DIR: a peer-scanner corpus with its cases.json)
//
// A malicious case judged "safe" is a false negative (the bar: none of the must_flag cases); a benign case
// judged anything else is a false positive (reported, not a failure). Exits 1 on a must_flag false negative.
import { readFileSync } from "node:fs";
import path from "node:path";
import { loadInspector } from "./load-inspector.mjs";

const corpus = process.argv[2];
if (!corpus) {
  console.error("usage: eval-peers.mjs PEER_SCANNERS_DIR");
  process.exit(2);
}
const { inspectBytes } = await loadInspector();

const totals = { cases: 0, fn: [], fp: [], verdicts: {} };
for (const scanner of ["picklescan", "fickling", "modelscan"]) {
  const cases = JSON.parse(readFileSync(path.join(corpus, scanner, "cases.json"), "utf8"));
  for (const c of cases) {
    let report;
    try {
      report = inspectBytes(new Uint8Array(readFileSync(path.join(corpus, scanner, c.file))));
    } catch (error) {
      report = { verdict: "missing", reason: String(error) };
    }
    totals.cases++;
    const key = `${c.expected}/${report.verdict}`;
    totals.verdicts[key] = (totals.verdicts[key] ?? 0) + 1;
    const line = `${scanner}/${c.file} (${c.bar_role}): ${report.verdict}: ${report.reason}`;
    if (c.expected === "malicious" && report.verdict === "safe") totals.fn.push(line);
    if (c.expected === "benign" && report.verdict !== "safe") totals.fp.push(line);
  }
}
console.log(`${totals.cases} cases; expected/verdict: ${JSON.stringify(totals.verdicts)}`);
const mustFlag = totals.fn.filter((l) => l.includes("(must_flag)")).length;
const mustPass = totals.fp.filter((l) => l.includes("(must_pass)")).length;
console.log(`false negatives (malicious judged safe): ${totals.fn.length}, of them must_flag: ${mustFlag}`);
for (const l of totals.fn) console.log(`  ${l}`);
console.log(`false positives (benign not judged safe): ${totals.fp.length}, of them must_pass: ${mustPass}`);
for (const l of totals.fp) console.log(`  ${l.slice(0, 220)}`);
// The bar: no must_flag case judged safe (the "info" ones are labelled disputable by the corpus itself).
process.exit(mustFlag ? 1 : 0);
