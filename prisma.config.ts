import { defineConfig } from "prisma/config";

// Only `prisma generate` runs here (migrations are applied by lib/audit/migrate.ts); the URL matters
// where Prisma's engine is available and someone runs `prisma migrate status` against a real file.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "file:./artifacts/.registry/audit.db" },
});
