-- expect: clean
-- ON DELETE SET NULL: old deletes of a referenced customer clear the reference instead of failing.
ALTER TABLE subscriptions ADD COLUMN referred_by bigint REFERENCES customers (id) ON DELETE SET NULL;
