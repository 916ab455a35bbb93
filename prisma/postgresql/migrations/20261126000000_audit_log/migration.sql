-- Translated from prisma/migrations/20261126000000_audit_log/migration.sql by `npm run db:migration`.
-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "seq" INTEGER NOT NULL,
    "at" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "correlationId" TEXT NOT NULL,
    "fromStem" TEXT,
    "fromSha256" TEXT,
    "fromScore" DOUBLE PRECISION,
    "toStem" TEXT,
    "toSha256" TEXT,
    "toScore" DOUBLE PRECISION,
    "metric" TEXT,
    "reason" TEXT,
    "checks" TEXT NOT NULL,
    "details" TEXT NOT NULL,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "AuditEvent_seq_key" ON "AuditEvent"("seq");
CREATE UNIQUE INDEX "AuditEvent_hash_key" ON "AuditEvent"("hash");
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");
CREATE INDEX "AuditEvent_action_idx" ON "AuditEvent"("action");
CREATE INDEX "AuditEvent_actor_idx" ON "AuditEvent"("actor");
CREATE INDEX "AuditEvent_toStem_idx" ON "AuditEvent"("toStem");
CREATE INDEX "AuditEvent_fromStem_idx" ON "AuditEvent"("fromStem");
CREATE INDEX "AuditEvent_correlationId_idx" ON "AuditEvent"("correlationId");
