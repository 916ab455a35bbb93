import { createHash } from "node:crypto";
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The read-only fixture corpus shipped beside the repo, and its MANIFEST of expected facts. */
export const FIXTURE = resolve(__dirname, "../../../fixtures/registry-basic");
export const MANIFEST = JSON.parse(readFileSync(join(FIXTURE, "MANIFEST.json"), "utf8"));
export const BEST = "candidate_logreg_20250305T101000Z";
export const PRODUCTION = "baseline_logreg_20250211T143000Z";

/** Copies the fixture registry into a fresh temp folder (writable) and returns its root. */
export function tempRegistry(): string {
  const dir = mkdtempSync(join(tmpdir(), "registry-test-"));
  cpSync(join(FIXTURE, "artifacts"), dir, { recursive: true });
  // The fixture is read-only; a registry under test must be writable like a real one.
  for (const sub of ["", "models", "metrics"]) {
    chmodSync(join(dir, sub), 0o755);
    if (sub) for (const f of readdirSync(join(dir, sub))) chmodSync(join(dir, sub, f), 0o644);
  }
  return dir;
}

export function removeRegistry(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function sha(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** sha256 of every file under models/ and metrics/, to prove a refused write changed nothing. */
export function fingerprint(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const sub of ["models", "metrics"]) {
    for (const f of readdirSync(join(root, sub)).sort()) out[`${sub}/${f}`] = sha(join(root, sub, f));
  }
  return out;
}
