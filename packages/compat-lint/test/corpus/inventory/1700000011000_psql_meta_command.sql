-- expect: syntax-error
\set ON_ERROR_STOP on
ALTER TABLE stock_levels ADD COLUMN note text;
