-- expect: rename-table
ALTER TABLE app.tenants SET SCHEMA public;
