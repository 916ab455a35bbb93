import "server-only";
import { type LoadCheckPolicy, type LoadCheckState, type ModelRef, peekLoadCheck, startLoadCheck } from "@/lib/load-check";
import { type HashedVersion, loadModel, resolveTarget, viewOf } from "@/lib/registry";
import { loadCheckPolicy, readSettings } from "@/lib/settings/settings";
import { inspectVersions } from "./inspection";
import { loadSnapshot } from "./registry";
import { db } from "./session";

// The load check as the web starts and watches it, off every page's render path: a page only peeks
// (lib/load-check never starts the sandbox for a peek); a releaser's button starts it; a poll follows it.

/** The registry's load-check setting in force (REGISTRY_LOAD_CHECK, else the dashboard's, else on). Reads only. */
export async function loadCheckPolicyNow(): Promise<LoadCheckPolicy> {
  return loadCheckPolicy(await readSettings(db()));
}

/** A listed version's model file, by name (never a path from a request). Throws UnknownVersionError. */
async function modelOf(stem: string): Promise<{ root: string; model: ModelRef; target: HashedVersion }> {
  const snapshot = await loadSnapshot();
  // A new object with the model file's hash: the cached snapshot is never changed.
  const target = loadModel(snapshot.root, resolveTarget(viewOf(snapshot), { kind: "promote", version: stem }));
  return { root: snapshot.root, model: { file: target.modelFile, sha256: target.sha256, stem: target.stem }, target };
}

/** Starts the check on a version's model (after the static inspector's verdict on its bytes) and says where it stands; never waits for it. */
export async function startVersionLoadCheck(stem: string): Promise<LoadCheckState> {
  const [{ root, model, target }, policy] = await Promise.all([modelOf(stem), loadCheckPolicyNow()]);
  const report = (await inspectVersions(root, [target])).get(target.stem);
  return startLoadCheck(root, model, report?.verdict ?? "unsupported", policy);
}

/** Where the check on a version's model stands, without starting it. */
export async function versionLoadCheckState(stem: string): Promise<LoadCheckState> {
  const [{ root, model }, policy] = await Promise.all([modelOf(stem), loadCheckPolicyNow()]);
  return peekLoadCheck(root, model, null, policy);
}
