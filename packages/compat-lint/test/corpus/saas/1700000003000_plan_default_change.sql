-- expect: change-default
ALTER TABLE app.tenants ALTER COLUMN plan SET DEFAULT 'trial';
