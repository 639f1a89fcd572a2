-- expect: clean
-- compat: breaking (reason: every generation since 7 parses generation with Number(); int8 strings are handled)
ALTER TABLE outbox ALTER COLUMN generation TYPE bigint;
