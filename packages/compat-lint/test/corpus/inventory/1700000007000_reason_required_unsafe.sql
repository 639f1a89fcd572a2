-- expect: set-not-null
ALTER TABLE movements ALTER COLUMN reason SET NOT NULL;
