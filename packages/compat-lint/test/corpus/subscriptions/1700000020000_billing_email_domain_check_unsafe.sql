-- expect: check-on-existing-column, set-not-null
-- Every column of the domain gets these; NOT VALID only skips stored values.
ALTER DOMAIN billing_email ADD CONSTRAINT billing_email_lower CHECK (VALUE = lower(VALUE)) NOT VALID;
ALTER DOMAIN billing_email SET NOT NULL;
