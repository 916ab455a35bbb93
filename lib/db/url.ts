import { join, resolve } from "node:path";

/** Where the registry's database lives: a SQLite file (the embedded default) or a PostgreSQL server. */
export type DatabaseTarget = { provider: "sqlite"; file: string } | { provider: "postgresql"; url: string };

export type Env = Record<string, string | undefined>;

/** The database URL from the environment: REGISTRY_DATABASE_URL, else DATABASE_URL; empty counts as unset. */
export function databaseUrl(env: Env = process.env): string | undefined {
  return env.REGISTRY_DATABASE_URL || env.DATABASE_URL || undefined;
}

export function isPostgresUrl(url: string | undefined): boolean {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url);
}

/**
 * The database for a registry: a postgresql:// URL selects PostgreSQL; a file: URL (or none) selects SQLite,
 * at that path or at <root>/.registry/audit.db. Pure but for the environment.
 */
export function databaseTarget(root: string, env: Env = process.env): DatabaseTarget {
  const url = databaseUrl(env);
  if (url && isPostgresUrl(url)) return { provider: "postgresql", url };
  if (url) return { provider: "sqlite", file: resolve(/*turbopackIgnore: true*/ url.replace(/^file:/, "")) };
  return { provider: "sqlite", file: join(root, ".registry", "audit.db") };
}

/** The URL with any password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    for (const key of [...u.searchParams.keys()]) if (/pass|secret|token/i.test(key)) u.searchParams.set(key, "***");
    return u.toString();
  } catch {
    return "(unparsable database URL)";
  }
}

/**
 * True for an error that means the database server could not be reached or went away (refused, reset,
 * shut down), as opposed to one about the query: such a failure is told as "the database is unavailable".
 */
export function isUnreachable(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown; cause?: unknown } | null;
  if (!err) return false;
  if (
    typeof err.code === "string" &&
    ["P1001", "P1002", "P1017", "ECONNREFUSED", "ECONNRESET", "57P01", "57P02", "57P03"].includes(err.code)
  ) {
    return true;
  }
  const text = typeof err.message === "string" ? err.message : "";
  if (
    /ECONNREFUSED|ECONNRESET|Connection terminated|terminating connection|the database system is (shutting down|starting up)|Can't reach database|DatabaseNotReachable|ConnectionClosed/i.test(
      text,
    )
  ) {
    return true;
  }
  return err.cause !== undefined && err.cause !== e && isUnreachable(err.cause);
}
