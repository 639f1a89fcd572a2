-- expect: incompatible-type-change
ALTER TABLE products ALTER COLUMN sku TYPE varchar(32);
