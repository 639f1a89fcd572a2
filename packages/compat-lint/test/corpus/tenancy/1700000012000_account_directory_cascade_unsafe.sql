-- expect: drop-view
-- account_directory comes back, but CASCADE also dropped account_emails, which does not.
DROP VIEW account_directory CASCADE;
CREATE VIEW account_directory AS SELECT a.id, a.email, a.created_at, a.name FROM accounts a;
