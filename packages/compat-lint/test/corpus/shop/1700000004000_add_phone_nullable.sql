-- expect: clean
-- Up Migration
-- Expand: a nullable column; old INSERTs simply leave it NULL.
ALTER TABLE users ADD COLUMN phone text;
-- Down Migration
ALTER TABLE users DROP COLUMN phone;
