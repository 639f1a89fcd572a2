-- expect: drop-column
-- compat-lint ignore drop-column
ALTER TABLE sessions DROP COLUMN user_agent;
ALTER TABLE events DROP COLUMN name;
