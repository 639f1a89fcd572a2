-- expect: clean
DROP VIEW account_directory CASCADE;
CREATE VIEW account_directory AS SELECT a.id, a.email, a.created_at, a.name FROM accounts a;
CREATE VIEW account_emails AS SELECT d.id, d.email FROM account_directory d;
