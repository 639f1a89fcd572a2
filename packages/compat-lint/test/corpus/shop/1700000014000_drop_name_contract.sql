-- expect: clean
-- Up Migration
-- compat: breaking (reason: generation 12 reads full_name only; generation 11 is retired)
ALTER TABLE users DROP COLUMN name;
