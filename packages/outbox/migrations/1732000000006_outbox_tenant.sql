-- Up Migration
-- The tenant an event belongs to, as a first-class column (publish option
-- `tenant`): the worker logs it (tenant_id), may label metrics with it, and
-- operators list and redrive dead letters by tenant.
--
-- Expand only: a nullable column without a default is a catalog change (no
-- table rewrite, a brief ACCESS EXCLUSIVE lock), and the previous
-- generation's code never names it, so it keeps publishing (tenant NULL) and
-- claiming unchanged. The length bound lives in the publisher, not in a
-- CHECK constraint, so this file adds no constraint to validate.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS tenant text;

-- `outbox-worker dead list|retry --tenant T`: the dead rows of one tenant, in
-- the list's (generation, id) order, without reading every dead row.
-- Partial: only dead rows that carry a tenant are in it, so only a row going
-- dead adds an entry. Not CONCURRENTLY, for the reasons given in
-- 1732000000005_outbox_due_index.sql: the plain build holds a SHARE lock on
-- outbox (publishes wait) for one scan of a table that retention keeps small.
-- On a very large outbox build it CONCURRENTLY by hand first: IF NOT EXISTS
-- then makes this a no-op.
-- compat-lint ignore create-index-non-concurrently
CREATE INDEX IF NOT EXISTS outbox_dead_tenant ON outbox (tenant, generation, id)
  WHERE status = 'dead' AND tenant IS NOT NULL;
