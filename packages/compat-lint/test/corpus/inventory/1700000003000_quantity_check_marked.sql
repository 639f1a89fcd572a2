-- expect: clean
-- compat: breaking (reason: all generations clamp quantity at zero since v9)
ALTER TABLE stock_levels ADD CONSTRAINT quantity_nonneg CHECK (quantity >= 0) NOT VALID;
ALTER TABLE stock_levels VALIDATE CONSTRAINT quantity_nonneg;
