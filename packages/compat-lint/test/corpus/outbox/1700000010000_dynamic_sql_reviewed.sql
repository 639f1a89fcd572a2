-- expect: clean
-- compat-lint ignore unverifiable-statement
DO $$ BEGIN PERFORM pg_notify('outbox', 'migrated'); END $$;
