-- Translated from prisma/migrations/20261204010000_sign_in_throttle/migration.sql by `npm run db:migration`.
-- Sign-in limits: one counter row per key, checked and counted in one statement, instead of one row per failure
-- counted before the next was written (which let parallel guesses through). Old failure rows are dropped:
-- at worst a guesser gets a fresh start once, on the day of the upgrade.
DROP TABLE "LoginFailure";

-- CreateTable
CREATE TABLE "LoginThrottle" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "failures" INTEGER NOT NULL,
    "lastAt" BIGINT NOT NULL,
    "until" BIGINT NOT NULL
);

-- CreateTable
CREATE TABLE "KnownBrowser" (
    "tokenHash" TEXT NOT NULL,
    "userId" INTEGER NOT NULL,
    "createdAt" TEXT NOT NULL,
    "lastSeenAt" TEXT NOT NULL,

    PRIMARY KEY ("tokenHash", "userId"),
    CONSTRAINT "KnownBrowser_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "LoginThrottle_lastAt_idx" ON "LoginThrottle"("lastAt");
CREATE INDEX "KnownBrowser_userId_idx" ON "KnownBrowser"("userId");
CREATE INDEX "KnownBrowser_lastSeenAt_idx" ON "KnownBrowser"("lastSeenAt");
