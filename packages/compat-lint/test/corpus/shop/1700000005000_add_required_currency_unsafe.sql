-- expect: add-required-column
-- Up Migration
ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL;
-- Down Migration
ALTER TABLE orders DROP COLUMN currency;
