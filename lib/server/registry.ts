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
let repaired: Promise<void> | null = null;

/**
 * A fresh read of the registry for this request: new runs show up on the next load. The first read of a
 * server process finishes any change a crash interrupted (and audits it); a later read that finds temp
 * files left by a crashed writer repairs again before answering.
 */
export async function loadSnapshot(): Promise<Snapshot> {
  const root = registryRoot();
  repaired ??= repairOnStart(root, SYSTEM).catch((e) => {
    repaired = null;
    console.error("start-up repair failed", e);
  });
  await repaired;
  const snapshot = await scanRegistry(root);
  if (!snapshot.problems.some((p) => p.reason === "temp_file")) return snapshot;
  await repairOnStart(root, SYSTEM);
  return scanRegistry(root);
}
