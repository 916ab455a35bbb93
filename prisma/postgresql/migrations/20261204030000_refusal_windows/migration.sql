-- Translated from prisma/migrations/20261204030000_refusal_windows/migration.sql by `npm run db:migration`.
-- CreateTable
CREATE TABLE "RefusalWindow" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "key" TEXT NOT NULL,
    "windowStart" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "anonymous" BOOLEAN NOT NULL,
    "actor" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "details" TEXT NOT NULL,
    "oneByOne" INTEGER NOT NULL,
    "seen" INTEGER NOT NULL,
    "written" INTEGER NOT NULL,
    "summarised" INTEGER NOT NULL,
    "firstAt" TEXT NOT NULL,
    "lastAt" TEXT NOT NULL,
    "claim" TEXT,
    "claimedAt" TEXT
);

-- CreateIndex
CREATE UNIQUE INDEX "RefusalWindow_key_windowStart_key" ON "RefusalWindow"("key", "windowStart");
CREATE INDEX "RefusalWindow_windowStart_idx" ON "RefusalWindow"("windowStart");
