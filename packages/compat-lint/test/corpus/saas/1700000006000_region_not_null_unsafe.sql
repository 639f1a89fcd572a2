-- expect: set-not-null
ALTER TABLE app.tenants ALTER COLUMN region SET NOT NULL;
