-- expect: invalid-directive, drop-column
-- compat: breaking
ALTER TABLE outbox DROP COLUMN attempts;
