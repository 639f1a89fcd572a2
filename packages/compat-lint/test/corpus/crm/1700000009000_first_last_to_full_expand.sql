-- expect: clean
-- Up Migration
ALTER TABLE contacts ADD COLUMN full_name text GENERATED ALWAYS AS (first_name || ' ' || last_name) STORED;
-- Down Migration
ALTER TABLE contacts DROP COLUMN full_name;
