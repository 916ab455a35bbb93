// Whether the loads_and_predicts check runs and whether a check that could not run blocks: the registry's
// "Load-and-predict check" setting (lib/settings), which REGISTRY_LOAD_CHECK pins when set.

/**
 * "off" never runs it; "on" runs it, and a check that could not run (no serving Python, no sandbox) is shown
 * in amber without blocking; "required" blocks a promotion on a check that could not run.
 */
export type LoadCheckMode = "off" | "on" | "required";
export const LOAD_CHECK_MODES: readonly LoadCheckMode[] = ["off", "on", "required"];

/** The mode in force and where it comes from (said in a "not run" reason). */
export interface LoadCheckPolicy {
  mode: LoadCheckMode;
  source: "env" | "database" | "default";
  /** false: a check not answered yet is started and reported as running rather than waited for (the preview). */
  wait?: boolean;
  /**
   * false: never start a run (a read by someone who may not promote): a remembered answer or a run already
   * going is reported, else nothing, and the plan then lists no load check, as the version page does.
   */
  start?: boolean;
}

/**
 * The policy from the environment alone, for callers with no database at hand: REGISTRY_LOAD_CHECK when set
 * (a value that does not parse fails closed: required), else "on". Pure.
 */
export function loadCheckPolicyFromEnv(env: Record<string, string | undefined> = process.env): LoadCheckPolicy {
  const text = env.REGISTRY_LOAD_CHECK?.trim().toLowerCase();
  if (!text) return { mode: "on", source: "default" };
  return { mode: (LOAD_CHECK_MODES as readonly string[]).includes(text) ? (text as LoadCheckMode) : "required", source: "env" };
}
