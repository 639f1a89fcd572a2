-- expect: clean
-- Up Migration
-- New nullable column plus a unique index that includes it: old rows and old writers leave it NULL.
ALTER TABLE outbox ADD COLUMN idempotency_key text;
CREATE UNIQUE INDEX CONCURRENTLY outbox_topic_idem ON outbox (topic, idempotency_key);
