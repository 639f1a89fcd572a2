-- expect: incompatible-type-change
ALTER TABLE events ALTER COLUMN occurred_at TYPE timestamptz(0);
