import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { migrateDatabase } from "@/lib/audit/migrate";
import { closeDbs, copyDatabase, databaseTarget, isPostgresUrl, migratePostgres, openDatabase, openDb, redactUrl } from "@/lib/db";
import { InvalidInputError, resolveRoot } from "@/lib/registry";
import { common, type Out, parse } from "./args";

export const DB_USAGE = "Usage: registry db migrate [--root DIR] | registry db copy --to postgresql://… [--root DIR]";

/** `registry db migrate|copy`: the database behind accounts, sessions, settings, approvals and the audit log. */
export async function dbCommand(args: string[], io: Out): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === "migrate") return await migrate(rest, io);
    if (sub === "copy") return await copy(rest, io);
    throw new InvalidInputError(DB_USAGE);
  } finally {
    await closeDbs();
  }
}

/** Creates and migrates the database (SQLite file or PostgreSQL), as first use would. JSON: { database, provider, applied }. */
async function migrate(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, common);
  const target = databaseTarget(resolveRoot(values.root));
  let database: string;
  let applied: string[];
  if (target.provider === "sqlite") {
    mkdirSync(dirname(target.file), { recursive: true });
    database = target.file;
    applied = migrateDatabase(target.file).applied;
  } else {
    database = redactUrl(target.url);
    applied = (await migratePostgres(target.url)).applied;
  }
  if (io.json) io.printJson({ database, provider: target.provider, applied });
  else io.print(applied.length ? `Migrated ${database}: ${applied.join(", ")}` : `${database} is up to date.`);
  return 0;
}

/**
 * Copies this registry's database (accounts, sessions, settings, approvals, the audit log with every
 * hash) into an empty PostgreSQL database, then verifies the copied chain. Exit 3 when the target is
 * not empty or the copied chain does not verify. JSON: { from, to, rows, chain }.
 */
async function copy(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { ...common, to: { type: "string" } });
  if (!values.to || !isPostgresUrl(values.to))
    throw new InvalidInputError(`Say where to: --to postgresql://USER@HOST:PORT/DATABASE. ${DB_USAGE}`);
  const source = databaseTarget(resolveRoot(values.root));
  if (source.provider === "sqlite" && !existsSync(source.file))
    throw new InvalidInputError(`No database at ${source.file}: nothing to copy.`);
  if (source.provider === "postgresql" && source.url === values.to)
    throw new InvalidInputError("The source and the target are the same database.");
  const from = openDb(resolveRoot(values.root));
  const to = openDatabase({ provider: "postgresql", url: values.to });
  const report = await copyDatabase(from, to);
  const names = { from: source.provider === "sqlite" ? source.file : redactUrl(source.url), to: redactUrl(values.to) };
  if (io.json) io.printJson({ ...names, ...report });
  else {
    const counts = Object.entries(report.rows)
      .map(([m, n]) => `${n} ${m}`)
      .join(", ");
    io.print(`Copied ${names.from} to ${names.to}: ${counts}.`);
    io.print(
      report.chain.ok
        ? `Audit chain intact in the copy: ${report.chain.count} events, head ${(report.chain.headHash ?? "").slice(0, 16)}…`
        : "AUDIT CHAIN BROKEN in the copy: run `registry audit verify` on the source.",
    );
    io.print("Point every dashboard and pipeline at it with DATABASE_URL (or REGISTRY_DATABASE_URL).");
  }
  return report.chain.ok ? 0 : 3;
}
