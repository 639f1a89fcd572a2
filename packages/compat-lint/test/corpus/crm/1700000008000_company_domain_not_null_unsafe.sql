-- expect: set-not-null
ALTER TABLE companies ALTER COLUMN domain SET NOT NULL;
