-- expect: clean
ALTER TABLE contacts ALTER COLUMN score SET DEFAULT 0;
