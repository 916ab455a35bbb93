-- Translated from prisma/migrations/20261127000000_audit_from_sha_index/migration.sql by `npm run db:migration`.
-- CreateIndex
CREATE INDEX "AuditEvent_fromSha256_seq_idx" ON "AuditEvent"("fromSha256", "seq");
