-- expect: clean
-- Up Migration
ALTER TABLE app.tenants ADD COLUMN region text;
ALTER TABLE app.tenants ADD CONSTRAINT tenants_region_known CHECK (region IN ('eu', 'us')) NOT VALID;
ALTER TABLE app.tenants VALIDATE CONSTRAINT tenants_region_known;
-- Down Migration
ALTER TABLE app.tenants DROP COLUMN region;
