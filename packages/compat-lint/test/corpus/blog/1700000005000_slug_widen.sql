-- expect: clean
ALTER TABLE posts ALTER COLUMN slug TYPE text;
