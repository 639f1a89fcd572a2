-- expect: set-not-null
UPDATE comments SET author = 'anonymous' WHERE author IS NULL;
ALTER TABLE comments ALTER COLUMN author SET NOT NULL;
