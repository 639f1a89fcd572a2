-- expect: clean
-- compat-lint ignore-file create-index-non-concurrently, table-rewrite
CREATE INDEX events_name ON events (name);
ALTER TABLE events ADD COLUMN seq bigserial;
