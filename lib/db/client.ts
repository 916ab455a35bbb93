import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { migrateDatabase } from "@/lib/audit/migrate";
import { PrismaClient } from "@/lib/generated/prisma/client";
import { PrismaClient as PgPrismaClient } from "@/lib/generated/prisma-pg/client";
import { migratePostgres } from "./migrate-postgres";
import { type DatabaseTarget, databaseTarget } from "./url";

/**
 * The registry's database. Both generated clients have the same models (prisma/postgresql/schema.prisma is
 * derived from prisma/schema.prisma), so the SQLite client's type stands for both.
 */
export type Db = PrismaClient;
export type Provider = DatabaseTarget["provider"];

// One client per database per process; survives Next's module reloads in development.
const g = globalThis as unknown as { __registryDbs?: Map<string, Db>; __registryDbProviders?: WeakMap<object, Provider> };
g.__registryDbs ??= new Map();
g.__registryDbProviders ??= new WeakMap();
const clients = g.__registryDbs;
const providers = g.__registryDbProviders;

/**
 * Opens the database for a registry, memoised per database: SQLite is created and migrated at once;
 * PostgreSQL is migrated on the first query (a failed attempt, say the server is down, is tried again by
 * the next query), so opening never waits on the network.
 */
export function openDb(root: string): Db {
  return openDatabase(databaseTarget(root));
}

/** Opens (memoised) the database `target` names, as openDb does for a registry's. */
export function openDatabase(target: DatabaseTarget): Db {
  const key = target.provider === "sqlite" ? target.file : target.url;
  let client = clients.get(key);
  if (!client) {
    client = target.provider === "sqlite" ? openSqlite(target.file) : openPostgres(target.url);
    providers.set(client, target.provider);
    clients.set(key, client);
  }
  return client;
}

function openSqlite(file: string): Db {
  mkdirSync(dirname(file), { recursive: true });
  migrateDatabase(file);
  return new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file, timeout: 10_000 }) });
}

function openPostgres(url: string): Db {
  const factory = new PrismaPg({ connectionString: url, max: 10, connectionTimeoutMillis: 10_000 });
  let migrated: Promise<unknown> | null = null;
  const connect = factory.connect.bind(factory);
  // Prisma connects on the first query: migrate then, once per process (again after a failure).
  factory.connect = async () => {
    migrated ??= migratePostgres(url).catch((e) => {
      migrated = null;
      throw e;
    });
    await migrated;
    return connect();
  };
  return new PgPrismaClient({ adapter: factory }) as unknown as Db;
}

/** Which database a client opened by openDb, or a transaction of one, talks to. */
export function providerOf(db: object): Provider {
  const active = (db as { _activeProvider?: string })._activeProvider;
  if (active === "postgresql" || active === "sqlite") return active;
  return providers.get(db) ?? "sqlite";
}

/**
 * Takes a PostgreSQL advisory lock for the rest of the transaction `tx` (released at commit or rollback).
 * On SQLite, which has one writer at a time, it does nothing: callers take SQLite's write lock their own way.
 */
export async function lockForTransaction(tx: Pick<Db, "$executeRawUnsafe">, key: number): Promise<void> {
  if (providerOf(tx) !== "postgresql") return;
  // A constant number, never input: safe to inline, and it keeps the parameter's type out of the way.
  await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${Math.trunc(key)})`);
}

/** Closes every client this process opened (tests and the CLI call this before exiting). */
export async function closeDbs(): Promise<void> {
  await Promise.all([...clients.values()].map((c) => c.$disconnect()));
  clients.clear();
}
