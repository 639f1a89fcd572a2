-- expect: clean
-- Up Migration
ALTER TABLE accounts ADD COLUMN iban text;
-- Down Migration
ALTER TABLE accounts DROP COLUMN iban;
DROP TABLE transfers;
