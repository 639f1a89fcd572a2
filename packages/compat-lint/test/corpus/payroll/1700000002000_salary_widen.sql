-- expect: clean
ALTER TABLE employees ALTER COLUMN salary TYPE numeric(14,2);
