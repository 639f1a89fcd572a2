-- expect: clean
ALTER TABLE contacts ALTER COLUMN aliases TYPE text[];
