// prisma/schema.prisma (SQLite) is the one source of the data model. This derives the PostgreSQL schema
// from it (same models, another provider and generated client), so the two can never be edited apart.
// `node scripts/db-schemas.mjs` writes it; `--check` exits 1 when the committed copy is out of date.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const SQLITE_SCHEMA = join(root, "prisma", "schema.prisma");
export const POSTGRES_SCHEMA = join(root, "prisma", "postgresql", "schema.prisma");

const HEADER = `// GENERATED from prisma/schema.prisma by \`npm run db:schemas\`: do not edit. Change the models there.
// The same models for PostgreSQL (DATABASE_URL=postgresql://…); migrations in prisma/postgresql/migrations.
`;

/** The PostgreSQL schema text for a SQLite schema text. Pure; throws when the source's shape is unexpected. */
export function postgresSchema(source) {
  let out = source;
  const swap = (from, to, what) => {
    if (!from.test(out)) throw new Error(`prisma/schema.prisma: cannot find ${what} to derive the PostgreSQL schema.`);
    out = out.replace(from, to);
  };
  swap(/provider\s*=\s*"sqlite"/, 'provider = "postgresql"', 'the datasource provider "sqlite"');
  swap(
    /output\s*=\s*"\.\.\/lib\/generated\/prisma"/,
    'output   = "../../lib/generated/prisma-pg"',
    'the generator output "../lib/generated/prisma"',
  );
  return HEADER + out;
}

export function derive() {
  return postgresSchema(readFileSync(SQLITE_SCHEMA, "utf8"));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = derive();
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(POSTGRES_SCHEMA, "utf8");
    } catch {}
    if (current !== text) {
      console.error("prisma/postgresql/schema.prisma is out of date: run `npm run db:schemas`.");
      process.exit(1);
    }
  } else {
    writeFileSync(POSTGRES_SCHEMA, text);
  }
}
