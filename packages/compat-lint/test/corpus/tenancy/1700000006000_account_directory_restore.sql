-- expect: clean
CREATE OR REPLACE VIEW account_directory AS SELECT a.id, a.email, a.created_at, a.name FROM accounts a;
