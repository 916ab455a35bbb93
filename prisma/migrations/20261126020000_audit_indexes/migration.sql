-- CreateIndex
CREATE INDEX "AuditEvent_toSha256_seq_idx" ON "AuditEvent"("toSha256", "seq");

-- CreateIndex
CREATE INDEX "AuditEvent_outcome_seq_idx" ON "AuditEvent"("outcome", "seq");
