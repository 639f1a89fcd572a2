-- expect: clean
ALTER TABLE outbox ADD COLUMN priority smallint;
