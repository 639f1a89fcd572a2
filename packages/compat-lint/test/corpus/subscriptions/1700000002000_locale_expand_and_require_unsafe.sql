-- expect: set-not-null
-- Expand and tighten in one change set: the previous generation's INSERTs do not
-- know locale, leave it NULL, and fail once it is NOT NULL.
ALTER TABLE customers ADD COLUMN locale text;
UPDATE customers SET locale = 'en' WHERE locale IS NULL;
ALTER TABLE customers ALTER COLUMN locale SET NOT NULL;
