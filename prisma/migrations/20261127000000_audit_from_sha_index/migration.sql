-- CreateIndex
CREATE INDEX "AuditEvent_fromSha256_seq_idx" ON "AuditEvent"("fromSha256", "seq");
