-- Translated from prisma/migrations/20261126020000_audit_indexes/migration.sql by `npm run db:migration`.
-- CreateIndex
CREATE INDEX "AuditEvent_toSha256_seq_idx" ON "AuditEvent"("toSha256", "seq");

-- CreateIndex
CREATE INDEX "AuditEvent_outcome_seq_idx" ON "AuditEvent"("outcome", "seq");
