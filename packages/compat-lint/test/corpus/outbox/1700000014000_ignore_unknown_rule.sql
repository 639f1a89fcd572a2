-- expect: invalid-directive
-- compat-lint ignore drop-colunm
ALTER TABLE outbox ADD COLUMN processed_at timestamptz;
