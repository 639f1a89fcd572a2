-- expect: clean
ALTER TABLE devices ALTER COLUMN battery TYPE integer;
