-- expect: clean
ALTER TABLE events ALTER COLUMN occurred_at TYPE timestamptz(6);
