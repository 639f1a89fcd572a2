-- expect: incompatible-type-change
ALTER TABLE outbox ALTER COLUMN generation TYPE bigint;
