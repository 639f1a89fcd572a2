-- expect: drop-default
ALTER TABLE stock_levels ALTER COLUMN reserved DROP DEFAULT;
