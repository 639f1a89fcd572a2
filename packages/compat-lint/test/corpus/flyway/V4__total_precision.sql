-- expect: incompatible-type-change
ALTER TABLE orders ALTER COLUMN total TYPE NUMERIC(10, 2);
