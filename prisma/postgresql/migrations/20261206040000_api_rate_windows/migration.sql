-- Translated from prisma/migrations/20261206040000_api_rate_windows/migration.sql by `npm run db:migration`,
-- then made UNLOGGED by hand: the counts are not worth a WAL flush on every API request (measured: a logged
-- table added ~2-3 ms a request under load, an unlogged one about as much as a read). A PostgreSQL crash
-- empties the table, so budgets start afresh then; a dashboard restart keeps them.
-- API rate limits in the database (issue 22): two replicas on one database share each token's budget,
-- and a restart does not reset it. One row per key and window, counted by an atomic upsert.

-- CreateTable
CREATE UNLOGGED TABLE "ApiRateWindow" (
    "key" TEXT NOT NULL,
    "windowStart" BIGINT NOT NULL,
    "count" INTEGER NOT NULL,

    PRIMARY KEY ("key", "windowStart")
);

-- CreateIndex
CREATE INDEX "ApiRateWindow_windowStart_idx" ON "ApiRateWindow"("windowStart");
