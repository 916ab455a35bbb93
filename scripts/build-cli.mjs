// Bundles the CLI (and the inspector's worker) into plain ESM under cli/dist, so `registry` starts fast.
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** `outdir` and `plugins` let a test build a variant of the CLI (cli/scan-cache-rule.test.ts). */
export async function buildCli({ outdir = join(root, "cli/dist"), plugins = [] } = {}) {
  const { build } = await import("esbuild");
  // Chunk names carry content hashes: start clean so stale chunks never pile up.
  rmSync(outdir, { recursive: true, force: true });
  await build({
    plugins,
    entryPoints: { registry: join(root, "cli/main.ts"), "inspect-worker": join(root, "lib/worker/entry.ts") },
    outdir,
    outExtension: { ".js": ".mjs" },
    // Chunks keep the audit log (and Prisma) out of commands that never touch it.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    sourcemap: "linked",
    // Less source for V8 to scan at every start; the source map keeps stack traces readable.
    minify: false,
    alias: { "@": root },
    external: ["better-sqlite3", "@prisma/adapter-better-sqlite3", "pg", "@prisma/adapter-pg", "@prisma/client", "@prisma/client/*", "@node-rs/argon2", "server-only"],
    // CommonJS dependencies inside an ESM bundle need a require().
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: "warning",
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildCli();
