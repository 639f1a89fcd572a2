-- expect: incompatible-type-change
ALTER TABLE posts ALTER COLUMN published_at TYPE timestamptz USING published_at AT TIME ZONE 'UTC';
