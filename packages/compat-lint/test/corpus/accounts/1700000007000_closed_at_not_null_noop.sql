-- expect: clean
ALTER TABLE accounts ALTER COLUMN owner SET NOT NULL;
