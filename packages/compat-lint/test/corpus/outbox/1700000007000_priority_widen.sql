-- expect: clean
-- smallint -> integer: both arrive in node-postgres as numbers (a rewrite, so a lock warning only).
ALTER TABLE outbox ALTER COLUMN priority TYPE integer;
