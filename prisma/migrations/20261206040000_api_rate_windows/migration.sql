-- API rate limits in the database (issue 22): two replicas on one database share each token's budget,
-- and a restart does not reset it. One row per key and window, counted by an atomic upsert.

-- CreateTable
CREATE TABLE "ApiRateWindow" (
    "key" TEXT NOT NULL,
    "windowStart" BIGINT NOT NULL,
    "count" INTEGER NOT NULL,

    PRIMARY KEY ("key", "windowStart")
);

-- CreateIndex
CREATE INDEX "ApiRateWindow_windowStart_idx" ON "ApiRateWindow"("windowStart");
