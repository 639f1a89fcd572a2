-- expect: incompatible-type-change
ALTER TABLE employees ALTER COLUMN salary TYPE numeric(14,4);
