-- expect: clean
-- Dropped and recreated in one transaction with every old column (and a new one).
DROP VIEW account_directory;
CREATE VIEW account_directory AS SELECT a.id, a.email, a.name, a.created_at FROM accounts a;
GRANT SELECT ON account_directory TO PUBLIC;
