-- expect: rename-column
-- Up Migration
ALTER TABLE users RENAME COLUMN name TO full_name;
-- Down Migration
ALTER TABLE users RENAME COLUMN full_name TO name;
