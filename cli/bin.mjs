#!/usr/bin/env node
// The CLI's entry point: runs the compiled bundle (built by `npm run cli:build`, or on first use here).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const bundle = join(here, "dist", "registry.mjs");
process.env.REGISTRY_MIGRATIONS_DIR ??= join(here, "..", "prisma", "migrations");
process.env.REGISTRY_INSPECT_WORKER ??= join(here, "dist", "inspect-worker.mjs");
process.env.REGISTRY_LOAD_LOADER ??= join(here, "..", "lib", "load-check", "loader.py");
if (!existsSync(bundle)) {
  const { buildCli } = await import("../scripts/build-cli.mjs");
  await buildCli();
}
const { main } = await import(bundle);
process.exitCode = await main(process.argv.slice(2));
