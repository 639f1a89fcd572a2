-- expect: clean
-- Up Migration
ALTER TABLE outbox ADD COLUMN headers jsonb NOT NULL DEFAULT '{}'::jsonb;
-- Down Migration
ALTER TABLE outbox DROP COLUMN headers;
