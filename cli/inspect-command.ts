import { resolve } from "node:path";
import { inspectFileIsolated } from "@/lib/inspect";
import { InvalidInputError } from "@/lib/registry";
import { common, type Out, parse } from "./args";

/** `registry inspect FILE`: the static safety and schema report of a model file. Exit 0 safe, 3 otherwise. */
export async function inspectCommand(args: string[], io: Out): Promise<number> {
  const { positionals } = parse(args, common, 1);
  const file = positionals[0];
  if (!file) throw new InvalidInputError("Usage: registry inspect FILE [--json]");
  // A local file named by the person at the shell (not a request): read statically, never unpickled.
  const report = await inspectFileIsolated(resolve(file));
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
    for (const g of report.globals) io.print(`    ${g.status.padEnd(9)} ${g.module}.${g.name}${g.nested ? " (nested)" : ""}`);
  }
  return report.verdict === "safe" ? 0 : 3;
}
