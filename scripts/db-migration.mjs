// Keeps PostgreSQL's migrations in step with SQLite's: each folder under prisma/migrations has a
// twin of the same name under prisma/postgresql/migrations.
//
//   npm run db:migration -- <name>   makes both for a change to prisma/schema.prisma: the SQLite one with
//                                   `prisma migrate diff` (where Prisma's engine can be fetched; elsewhere
//                                   write prisma/migrations/<timestamp>_<name>/migration.sql by hand first),
//                                   then the PostgreSQL one translated from it.
//   npm run db:migration             translates every SQLite migration that has no PostgreSQL twin yet.
//
// The translation covers what Prisma writes for SQLite (CREATE/DROP TABLE and INDEX, ADD/DROP COLUMN);
// a SQLite table rebuild (PRAGMA / "new_" tables) is refused: write that PostgreSQL step by hand.
// lib/db/schema-sync.test.ts fails while the two sets of migrations, or the two schemas, disagree.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { derive, POSTGRES_SCHEMA } from "./db-schemas.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const SQLITE_MIGRATIONS = join(root, "prisma", "migrations");
export const POSTGRES_MIGRATIONS = join(root, "prisma", "postgresql", "migrations");

const TYPES = [
  [/\bINTEGER NOT NULL PRIMARY KEY AUTOINCREMENT\b/g, "SERIAL NOT NULL PRIMARY KEY"],
  [/\bREAL\b/g, "DOUBLE PRECISION"],
  [/\bDATETIME\b/g, "TIMESTAMP(3)"],
  [/\bBLOB\b/g, "BYTEA"],
  [/\bDECIMAL\b(?!\s*\()/g, "DECIMAL(65,30)"],
  [/\bJSONB?\b/g, "JSONB"],
];

/** PostgreSQL SQL for one migration Prisma (or a person) wrote for SQLite. Pure; throws on SQLite-only steps. */
export function translate(sql, name = "migration") {
  if (/^\s*PRAGMA\b/im.test(sql) || /"new_\w+"/.test(sql)) {
    throw new Error(
      `${name} rebuilds a table (SQLite's way to alter a column): write prisma/postgresql/migrations/${name}/migration.sql by hand (ALTER TABLE … ALTER COLUMN).`,
    );
  }
  let out = sql;
  for (const [from, to] of TYPES) out = out.replace(from, to);
  return `-- Translated from prisma/migrations/${name}/migration.sql by \`npm run db:migration\`.\n${out}`;
}

function migrationNames(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort();
}

/** Writes the PostgreSQL twin of every SQLite migration that lacks one; returns their names. */
export function translateMissing() {
  const have = new Set(migrationNames(POSTGRES_MIGRATIONS));
  const made = [];
  for (const name of migrationNames(SQLITE_MIGRATIONS)) {
    if (have.has(name)) continue;
    const sql = readFileSync(join(SQLITE_MIGRATIONS, name, "migration.sql"), "utf8");
    mkdirSync(join(POSTGRES_MIGRATIONS, name), { recursive: true });
    writeFileSync(join(POSTGRES_MIGRATIONS, name, "migration.sql"), translate(sql, name));
    made.push(name);
  }
  return made;
}

function stamp(d = new Date()) {
  return d.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

function newSqliteMigration(name) {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error("A migration name is lower-case letters, digits and underscores.");
  if (migrationNames(SQLITE_MIGRATIONS).some((n) => n.endsWith(`_${name}`))) return;
  let sql;
  try {
    sql = execFileSync(
      "npx",
      [
        "prisma",
        "migrate",
        "diff",
        "--from-migrations",
        SQLITE_MIGRATIONS,
        "--to-schema",
        join(root, "prisma", "schema.prisma"),
        "--script",
      ],
      { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
  } catch (e) {
    throw new Error(
      `prisma migrate diff failed (${String(e.stderr ?? e.message)
        .trim()
        .split("\n")
        .at(-1)}).\nWrite prisma/migrations/${stamp()}_${name}/migration.sql by hand, then run \`npm run db:migration -- ${name}\` again.`,
    );
  }
  const folder = join(SQLITE_MIGRATIONS, `${stamp()}_${name}`);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, "migration.sql"), sql);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const name = process.argv[2];
    if (name) newSqliteMigration(name);
    writeFileSync(POSTGRES_SCHEMA, derive());
    const made = translateMissing();
    console.log(made.length ? `PostgreSQL migrations written: ${made.join(", ")}` : "PostgreSQL migrations already match SQLite's.");
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
