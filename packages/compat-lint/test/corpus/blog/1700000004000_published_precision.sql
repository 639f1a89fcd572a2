-- expect: clean
ALTER TABLE posts ALTER COLUMN published_at TYPE timestamptz(6);
