-- Translated from prisma/migrations/20261204050000_approvals/migration.sql by `npm run db:migration`.
-- Two-person rule (issue 17, point 2): the person behind an account, registry settings, approval requests.

-- The human behind an account (full name or email), set by admins; NULL means "the username".
ALTER TABLE "User" ADD COLUMN "person" TEXT;

-- CreateTable
CREATE TABLE "Setting" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "value" TEXT NOT NULL,
    "updatedAt" TEXT NOT NULL,
    "updatedBy" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "ApprovalRequest" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "uid" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "targetStem" TEXT NOT NULL,
    "targetSha256" TEXT NOT NULL,
    "targetScore" DOUBLE PRECISION,
    "metric" TEXT,
    "fromStem" TEXT,
    "productionSha256" TEXT,
    "fromScore" DOUBLE PRECISION,
    "minScore" DOUBLE PRECISION NOT NULL,
    "overrides" TEXT NOT NULL,
    "checks" TEXT NOT NULL,
    "files" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "requesterId" INTEGER,
    "requesterName" TEXT NOT NULL,
    "requesterPerson" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "createdAt" TEXT NOT NULL,
    "expiresAt" TEXT NOT NULL,
    "deciderId" INTEGER,
    "deciderName" TEXT,
    "deciderPerson" TEXT,
    "decisionReason" TEXT,
    "decidedAt" TEXT,
    "releaseCorrelationId" TEXT,
    "outcome" TEXT
);

-- CreateIndex
CREATE UNIQUE INDEX "ApprovalRequest_uid_key" ON "ApprovalRequest"("uid");
CREATE INDEX "ApprovalRequest_state_expiresAt_idx" ON "ApprovalRequest"("state", "expiresAt");
