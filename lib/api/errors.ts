import type { RegistryError } from "@/lib/registry/errors";

// One table from the registry's error codes to HTTP statuses, and its inverse for `registry --server`:
// a remote command exits with the code the local one would (lib/api/errors.test.ts proves the round trip).

/** The HTTP status for a registry error. Pure. */
export function statusOf(e: Pick<RegistryError, "code" | "exitCode">): number {
  if (e.code === "unknown_version" || e.code === "unknown_request" || e.code === "unknown_token") return 404;
  if (e.code === "production_changed" || e.code === "source_changed" || e.code === "request_stale") return 409;
  if (e.code === "lock_timeout") return 503;
  if (e.exitCode === 2) return 400;
  if (e.exitCode === 3) return 422;
  if (e.exitCode === 4) return e.code === "unauthenticated" ? 401 : 403;
  return 500;
}

/** The CLI's exit code for an API status. Pure. */
export function exitCodeOf(status: number): number {
  if (status === 400 || status === 404) return 2;
  if (status === 409 || status === 422) return 3;
  if (status === 401 || status === 403) return 4;
  return 1;
}
