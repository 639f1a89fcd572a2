-- expect: drop-default
-- Old INSERTs omit id and relied on the identity to fill it; id stays NOT NULL.
ALTER TABLE subscriptions ALTER COLUMN id DROP IDENTITY;
