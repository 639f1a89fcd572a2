-- expect: check-on-existing-column
-- The set-not-null recipe's CHECK, on a column added in the same change set:
-- old INSERTs leave region NULL, which the CHECK rejects (NOT VALID only skips old rows).
ALTER TABLE customers ADD COLUMN region text;
ALTER TABLE customers ADD CONSTRAINT customers_region_present CHECK (region IS NOT NULL) NOT VALID;
