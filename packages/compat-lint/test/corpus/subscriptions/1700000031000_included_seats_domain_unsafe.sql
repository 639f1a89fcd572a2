-- expect: add-required-column
-- The domain is NOT NULL and has no default: old INSERTs that omit the column fail.
CREATE DOMAIN seat_count AS integer NOT NULL;
ALTER TABLE subscriptions ADD COLUMN included_seats seat_count;
