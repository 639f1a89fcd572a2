-- CreateIndex

CREATE INDEX CONCURRENTLY "traces_updated_at_idx" ON "traces"("updated_at");
