import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { type InspectionPolicy, inspectFileIsolated } from "@/lib/inspect";
import { InvalidInputError, resolveRoot } from "@/lib/registry";
import { common, type Out, parse } from "./args";

/**
 * `registry inspect FILE`: the static safety and schema report of a model file, judged with the trust list
 * of the registry (--root) when it has a database. Exit 0 safe, 3 otherwise, 2 for a path that is not there.
 */
export async function inspectCommand(args: string[], io: Out, policyOf: (root: string) => Promise<InspectionPolicy>): Promise<number> {
  const { values, positionals } = parse(args, common, 1);
  const file = positionals[0];
  if (!file) throw new InvalidInputError("Usage: registry inspect FILE [--json]");
  // A path that names nothing is a typo at the shell, not a malformed model.
  if (!existsSync(resolve(file))) throw new InvalidInputError(`No such file: ${file}. Usage: registry inspect FILE [--json]`);
  const policy = await policyOf(resolveRoot(values.root));
  // A local file named by the person at the shell (not a request): read statically, never unpickled.
  const report = await inspectFileIsolated(resolve(file), { policy });
  if (io.json) {
    io.printJson(report);
  } else {
    io.print(`${file}: ${report.verdict.toUpperCase()} — ${report.reason}`);
    io.print(`  container ${report.container}, protocol ${report.protocol ?? "?"}, ${report.compressedSize} bytes`);
    const s = report.schema;
    if (s.keys) io.print(`  saved keys: ${s.keys.join(", ")}`);
    if (s.modelClass)
      io.print(
        `  model: ${s.modelClass}${s.finalEstimator ? ` → ${s.finalEstimator}` : ""}${s.pipelineSteps ? ` (steps ${s.pipelineSteps.join(", ")})` : ""}`,
      );
    if (s.catCols) io.print(`  cat_cols: ${s.catCols.join(", ")}`);
    if (s.numCols) io.print(`  num_cols: ${s.numCols.join(", ")}`);
    io.print(`  globals (${report.globals.length}):`);
    for (const g of report.globals) {
      const trust = g.trust ? ` (trusted by registry policy: ${g.trust.by}, ${g.trust.at})` : "";
      io.print(`    ${g.status.padEnd(9)} ${g.module}.${g.name}${g.nested ? " (nested)" : ""}${trust}`);
    }
  }
  return report.verdict === "safe" ? 0 : 3;
}
