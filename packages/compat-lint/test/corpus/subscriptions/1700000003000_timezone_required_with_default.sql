-- expect: clean
-- With a default the database fills it for old INSERTs, so NOT NULL is safe at once.
ALTER TABLE customers ADD COLUMN timezone text DEFAULT 'UTC';
ALTER TABLE customers ALTER COLUMN timezone SET NOT NULL;
