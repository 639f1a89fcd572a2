-- expect: drop-not-null
ALTER TABLE accounts ALTER COLUMN owner DROP NOT NULL;
