-- expect: incompatible-type-change
-- char(n) pads with spaces; varchar does not: old comparisons change.
ALTER TABLE warehouses ALTER COLUMN code TYPE varchar(4);
