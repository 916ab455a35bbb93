import "server-only";
import { repairOnStart } from "@/lib/audit";
import { resolveMinScore, resolveRoot, type Snapshot, scanRegistry } from "@/lib/registry";

/** The registry root this server serves (REGISTRY_ROOT, else ./artifacts). */
export function registryRoot(): string {
  return resolveRoot();
}

/** The release threshold in force (REGISTRY_MIN_SCORE, else 0.60). */
export function minScore(): number {
  return resolveMinScore();
}

const SYSTEM = { name: "system", role: "system", source: "web" as const };

/**
 * A fresh read of the registry for this request: new runs show up on the next load. When a crashed
 * writer left a journal (one stat to find out), the change is finished and audited before answering.
 */
export async function loadSnapshot(): Promise<Snapshot> {
  const root = registryRoot();
  await repairOnStart(root, SYSTEM);
  return scanRegistry(root);
}
