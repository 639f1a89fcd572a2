-- expect: drop-default
ALTER TABLE app.tenants ALTER COLUMN plan DROP DEFAULT;
