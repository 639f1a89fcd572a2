-- expect: drop-default
-- New code always writes currency; the previous generation's INSERTs omit it and
-- relied on the default to satisfy NOT NULL.
ALTER TABLE subscriptions ADD COLUMN currency char(3) NOT NULL DEFAULT 'EUR';
ALTER TABLE subscriptions ALTER COLUMN currency DROP DEFAULT;
