-- expect: clean
-- The primary-key swap: the same constraint name over the same columns by the end of the file.
CREATE UNIQUE INDEX CONCURRENTLY customers_id_new ON customers (id);
ALTER TABLE customers DROP CONSTRAINT customers_pkey, ADD CONSTRAINT customers_pkey PRIMARY KEY USING INDEX customers_id_new;
