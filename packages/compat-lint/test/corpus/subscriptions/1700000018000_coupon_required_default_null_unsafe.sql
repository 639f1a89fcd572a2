-- expect: add-required-column
-- DEFAULT NULL is no default: old INSERTs omit coupon_code and still write NULL.
ALTER TABLE subscriptions ADD COLUMN coupon_code text NOT NULL DEFAULT NULL;
