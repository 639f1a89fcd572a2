-- expect: clean
-- Up Migration

-- Down Migration
DROP TABLE devices;
