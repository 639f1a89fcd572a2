-- expect: drop-view
-- Recreated without name, which old code selects.
DROP VIEW account_directory;
CREATE VIEW account_directory AS SELECT a.id, a.email, a.created_at FROM accounts a;
