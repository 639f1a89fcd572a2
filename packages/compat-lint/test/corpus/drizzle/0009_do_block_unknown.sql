-- expect: unverifiable-statement
DO $$ BEGIN
 IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reader') THEN
  CREATE ROLE reader;
 END IF;
END $$;
