-- expect: clean
CREATE VIEW account_emails AS SELECT d.id, d.email FROM account_directory d;
