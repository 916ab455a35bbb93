import type { ApplyHooks, ApplyResult } from "./apply";
import { applyPlan } from "./apply";
import { type ChangeRequest, type Plan, planChange, readArtifactEvidence, resolveTarget } from "./plan";
import { loadDeferredMetrics, type Snapshot, scanRegistry } from "./scan";

/**
 * Reads the registry and plans a promotion or rollback against what is on disk now. Reads only.
 * Throws typed errors for an unknown version or nothing to promote.
 */
export async function planFromDisk(root: string, request: ChangeRequest): Promise<{ snapshot: Snapshot; plan: Plan }> {
  const snapshot = await scanRegistry(root);
  const target = resolveTarget(snapshot, request);
  loadDeferredMetrics(root, [target, snapshot.versions.find((v) => v.stem === snapshot.production.stem)]);
  const artifact = await readArtifactEvidence(root, target);
  const plan = planChange(snapshot, { ...request, version: target.stem }, { artifact, safety: null });
  return { snapshot, plan };
}

/** Plans against the current disk state and applies the plan if it is allowed (see applyPlan for effects). */
export async function planAndApply(
  root: string,
  request: ChangeRequest,
  hooks?: ApplyHooks,
): Promise<{ plan: Plan; result: ApplyResult }> {
  const { plan } = await planFromDisk(root, request);
  return { plan, result: await applyPlan(root, plan, hooks) };
}
