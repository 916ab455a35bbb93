// Bundles the worker thread (lib/worker/entry.ts) for the web server, into .next/inspect-worker.mjs, from
// the same sources and at the same time as `next build` (and before `next dev`), so the dashboard never
// runs a worker left behind by an older CLI build. lib/inspect/run-isolated.ts loads it.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export async function buildWorker(outfile = join(root, ".next", "inspect-worker.mjs")) {
  const { build } = await import("esbuild");
  await build({
    entryPoints: [join(root, "lib/worker/entry.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    alias: { "@": root },
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: "warning",
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildWorker();
