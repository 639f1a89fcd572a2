-- expect: unique-on-existing-column
-- The new column has a default, so old writers all get the same value: the unique index still bites.
ALTER TABLE transfers ADD COLUMN channel text NOT NULL DEFAULT 'web';
CREATE UNIQUE INDEX CONCURRENTLY transfers_from_channel ON transfers (from_account, channel);
