-- expect: rename-table
ALTER TABLE companies RENAME TO accounts;
