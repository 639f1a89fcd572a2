-- expect: unverifiable-statement
-- The usual way around a DO block: create a function, SELECT it, drop it. Its body can run any DDL.
CREATE FUNCTION backfill_once() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE 'ALTER TABLE customers DROP COLUMN ' || 'email';
END
$$;
SELECT backfill_once();
DROP FUNCTION backfill_once();
