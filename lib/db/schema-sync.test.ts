import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase } from "@/lib/audit/migrate";
// @ts-expect-error: a plain .mjs script without types
import { translate } from "../../scripts/db-migration.mjs";
// @ts-expect-error: a plain .mjs script without types
import { POSTGRES_SCHEMA, postgresSchema, SQLITE_SCHEMA } from "../../scripts/db-schemas.mjs";
import { migratePostgres } from "./migrate-postgres";
import { POSTGRES_OFF, sqlOn, throwawayDatabase } from "./test-support/postgres";

const SQLITE_MIGRATIONS = resolve(__dirname, "../../prisma/migrations");
const POSTGRES_MIGRATIONS = resolve(__dirname, "../../prisma/postgresql/migrations");
const folders = (dir: string) =>
  readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort();

// prisma/schema.prisma is the one source: these fail while the PostgreSQL side has not been brought along.
describe("one schema, two databases", () => {
  it("prisma/postgresql/schema.prisma is derived from prisma/schema.prisma (run `npm run db:schemas`)", () => {
    expect(readFileSync(POSTGRES_SCHEMA, "utf8")).toBe(postgresSchema(readFileSync(SQLITE_SCHEMA, "utf8")));
  });

  it("every SQLite migration has its PostgreSQL twin of the same name (run `npm run db:migration`)", () => {
    expect(folders(POSTGRES_MIGRATIONS)).toEqual(folders(SQLITE_MIGRATIONS));
  });

  it("translates what Prisma writes for SQLite, and refuses a table rebuild", () => {
    expect(
      translate(`CREATE TABLE "T" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "x" REAL, "d" DATETIME NOT NULL, "b" BLOB);`),
    ).toContain(`"id" SERIAL NOT NULL PRIMARY KEY, "x" DOUBLE PRECISION, "d" TIMESTAMP(3) NOT NULL, "b" BYTEA`);
    expect(() => translate(`PRAGMA foreign_keys=OFF;\nCREATE TABLE "new_T" ("id" TEXT);`, "x")).toThrow(/by hand/);
  });
});

type Shape = Record<string, { columns: string[]; indexes: string[] }>;

function sqliteShape(file: string): Shape {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations'`)
      .all() as {
      name: string;
    }[];
    const shape: Shape = {};
    for (const { name } of tables) {
      const columns = (db.prepare(`PRAGMA table_info("${name}")`).all() as { name: string; notnull: number; pk: number }[]).map(
        (c) => `${c.name}${c.notnull || c.pk ? " NOT NULL" : ""}`,
      );
      const indexes = (db.prepare(`PRAGMA index_list("${name}")`).all() as { name: string; unique: number; origin: string }[])
        .filter((i) => i.origin !== "pk")
        .map((i) => {
          const cols = (db.prepare(`PRAGMA index_info("${i.name}")`).all() as { name: string }[]).map((c) => c.name);
          return `${i.unique ? "UNIQUE " : ""}${i.name}(${cols.join(",")})`;
        });
      shape[name] = { columns: columns.sort(), indexes: indexes.sort() };
    }
    return shape;
  } finally {
    db.close();
  }
}

async function postgresShape(url: string): Promise<Shape> {
  const cols = await sqlOn(
    url,
    `SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
  );
  const idx = await sqlOn(
    url,
    `SELECT t.relname AS table, i.relname AS index, x.indisunique AS unique,
            array_to_string(array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o), ',') AS cols
     FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace s ON s.oid = t.relnamespace
     WHERE s.nspname = 'public' AND NOT x.indisprimary AND t.relname <> '_prisma_migrations'`,
  );
  const shape: Shape = {};
  for (const c of cols.rows) {
    shape[c.table_name] ??= { columns: [], indexes: [] };
    shape[c.table_name]!.columns.push(`${c.column_name}${c.is_nullable === "NO" ? " NOT NULL" : ""}`);
  }
  for (const i of idx.rows) shape[i.table]!.indexes.push(`${i.unique ? "UNIQUE " : ""}${i.index}(${i.cols})`);
  for (const t of Object.values(shape)) {
    t.columns.sort();
    t.indexes.sort();
  }
  return shape;
}

describe.skipIf(POSTGRES_OFF)("migrations of both databases", () => {
  let dir: string;
  let database: Awaited<ReturnType<typeof throwawayDatabase>>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "schema-sync-"));
    database = await throwawayDatabase();
  });
  afterAll(async () => {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("build the same tables, columns (and nullability) and indexes", async () => {
    const file = join(dir, "audit.db");
    migrateDatabase(file, SQLITE_MIGRATIONS);
    await migratePostgres(database.url, POSTGRES_MIGRATIONS);
    const sqlite = sqliteShape(file);
    expect(Object.keys(sqlite).length).toBeGreaterThanOrEqual(8);
    expect(await postgresShape(database.url)).toEqual(sqlite);
  });
});
