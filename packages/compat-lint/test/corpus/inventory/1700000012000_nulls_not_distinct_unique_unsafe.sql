-- expect: unique-on-existing-column
ALTER TABLE movements ADD COLUMN batch_ref text;
CREATE UNIQUE INDEX CONCURRENTLY movements_batch ON movements (warehouse, batch_ref) NULLS NOT DISTINCT;
