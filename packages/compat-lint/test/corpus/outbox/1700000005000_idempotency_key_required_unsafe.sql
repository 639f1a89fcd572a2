-- expect: set-not-null
ALTER TABLE outbox ALTER COLUMN idempotency_key SET NOT NULL;
