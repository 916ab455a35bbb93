import "server-only";
import { resolveMinScore, resolveRoot, type Snapshot, scanRegistry } from "@/lib/registry";

/** The registry root this server serves (REGISTRY_ROOT, else ./artifacts). */
export function registryRoot(): string {
  return resolveRoot();
}

/** The release threshold in force (REGISTRY_MIN_SCORE, else 0.60). */
export function minScore(): number {
  return resolveMinScore();
}

/** A fresh read of the registry for this request: new runs show up on the next load. */
export async function loadSnapshot(): Promise<Snapshot> {
  return scanRegistry(registryRoot());
}
