-- Translated from prisma/migrations/20261205020000_trusted_globals/migration.sql by `npm run db:migration`.
-- CreateTable
CREATE TABLE "TrustedGlobal" (
    "path" TEXT NOT NULL PRIMARY KEY,
    "module" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "addedBy" TEXT NOT NULL,
    "addedAt" TEXT NOT NULL
);
