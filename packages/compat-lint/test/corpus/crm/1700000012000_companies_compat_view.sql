-- expect: clean
-- compat: breaking (reason: the view below keeps the old name working for generation N-1)
ALTER TABLE companies RENAME TO accounts;
CREATE VIEW companies AS SELECT * FROM accounts;
