import { resolve } from "node:path";
import { DEFAULT_MIN_SCORE } from "./checks";
import { InvalidInputError } from "./errors";

/** The registry root: an explicit value, else REGISTRY_ROOT, else ./artifacts, as an absolute path. */
export function resolveRoot(explicit?: string | null): string {
  // The root is data chosen at run time, not a source folder for the bundler to trace.
  return resolve(/*turbopackIgnore: true*/ explicit || process.env.REGISTRY_ROOT || "artifacts");
}

/** The release threshold: an explicit value, else REGISTRY_MIN_SCORE, else 0.60. Throws on a non-number. */
export function resolveMinScore(explicit?: string | number | null): number {
  const raw = explicit ?? process.env.REGISTRY_MIN_SCORE;
  if (raw === undefined || raw === null || raw === "") return DEFAULT_MIN_SCORE;
  const n = typeof raw === "number" ? raw : Number(raw);
  if (!Number.isFinite(n) || (typeof raw === "string" && !/^\s*-?\d*\.?\d+(e-?\d+)?\s*$/i.test(raw))) {
    throw new InvalidInputError(`The minimum score must be a number, e.g. 0.6 (got "${String(raw)}").`);
  }
  return n;
}
