-- expect: rename-column
ALTER TABLE stock_levels RENAME sku TO product_sku;
