-- expect: clean
-- A lock warning, not a contract error: the file still passes.
CREATE INDEX orders_placed_at ON orders (placed_at);
