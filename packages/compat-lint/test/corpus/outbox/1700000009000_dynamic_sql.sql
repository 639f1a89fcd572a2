-- expect: unverifiable-statement
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'outbox_status') THEN
    CREATE TYPE outbox_status AS ENUM ('pending', 'in_flight', 'done', 'dead');
  END IF;
END
$$;
