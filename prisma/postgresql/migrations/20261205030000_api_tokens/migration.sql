-- Translated from prisma/migrations/20261205030000_api_tokens/migration.sql by `npm run db:migration`.
-- HTTP API bearer tokens (issue 21): only the sha256 of each token is stored.

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "createdAt" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "expiresAt" TEXT,
    "revokedAt" TEXT,
    "revokedBy" TEXT,
    "lastUsedAt" TEXT
);

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_tokenHash_key" ON "ApiToken"("tokenHash");

-- CreateIndex
CREATE INDEX "ApiToken_name_idx" ON "ApiToken"("name");
