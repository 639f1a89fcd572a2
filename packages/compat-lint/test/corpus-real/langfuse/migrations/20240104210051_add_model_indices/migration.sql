-- CreateIndex
CREATE INDEX CONCURRENTLY "observations_model_idx" ON "observations"("model");

