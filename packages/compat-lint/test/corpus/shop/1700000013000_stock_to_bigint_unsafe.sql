-- expect: incompatible-type-change
-- node-postgres returns int8 as a string: old code doing stock - 1 breaks.
ALTER TABLE products ALTER COLUMN stock TYPE bigint;
