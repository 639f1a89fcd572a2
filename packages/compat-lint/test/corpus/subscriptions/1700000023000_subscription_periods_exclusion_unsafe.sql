-- expect: unique-on-existing-column
-- An exclusion constraint is a uniqueness rule: old code that writes an overlapping row starts failing.
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_one_per_customer EXCLUDE USING gist (customer_id WITH =);
