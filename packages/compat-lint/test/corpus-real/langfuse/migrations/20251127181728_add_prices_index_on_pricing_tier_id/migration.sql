-- CreateIndex
CREATE INDEX CONCURRENTLY "prices_pricing_tier_id_idx" ON "prices"("pricing_tier_id");
