-- expect: clean
-- Up Migration
ALTER TABLE orders ADD COLUMN currency_code char(3) NOT NULL DEFAULT 'EUR';
