-- expect: clean
-- The rename-table recipe: rename, and a view with the old name over it in the same file.
ALTER TABLE usage_records RENAME TO metered_usage;
CREATE VIEW usage_records AS SELECT * FROM metered_usage;
