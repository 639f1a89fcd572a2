-- expect: incompatible-type-change
ALTER TABLE readings ALTER COLUMN value TYPE numeric;
