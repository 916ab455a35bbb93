// The static inspector (lib/inspect/index.ts) for a plain-Node tool script: bundled with esbuild into a
// private temporary folder (never a fixed /tmp name another user could plant first), imported, then removed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** The inspector's module: `inspectBytes` and the rest of lib/inspect/index.ts's exports. */
export async function loadInspector() {
  const dir = mkdtempSync(path.join(tmpdir(), "inspector-"));
  try {
    const outfile = path.join(dir, "inspector.mjs");
    await build({
      entryPoints: [path.join(root, "lib/inspect/index.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      outfile,
      logLevel: "warning",
    });
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
