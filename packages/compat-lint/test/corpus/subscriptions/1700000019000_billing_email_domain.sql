-- expect: clean
CREATE DOMAIN billing_email AS text;
ALTER TABLE customers ADD COLUMN billing_email billing_email;
-- A domain created in this change set: no old code writes through it yet.
ALTER DOMAIN billing_email ADD CONSTRAINT billing_email_has_at CHECK (VALUE LIKE '%@%');
