-- expect: rename-constraint
-- Renaming the primary key's index renames the constraint: old ON CONFLICT ON CONSTRAINT subscriptions_pkey fails.
ALTER INDEX subscriptions_pkey RENAME TO subscriptions_id_pkey;
