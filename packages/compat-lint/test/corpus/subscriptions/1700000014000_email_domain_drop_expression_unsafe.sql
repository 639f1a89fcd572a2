-- expect: drop-default
-- email_domain stops being computed: rows old code inserts get NULL where it reads a domain.
ALTER TABLE customers ALTER COLUMN email_domain DROP EXPRESSION;
