-- expect: clean
ALTER TABLE movements ALTER COLUMN reason SET DEFAULT 'manual';
