-- Up Migration
-- One row per published event, stamped with the publisher's generation in the
-- publisher's own transaction. Workers only ever claim rows of their own
-- generation; there is deliberately no foreign key to deployments so that a
-- publish never takes a row lock on the shared deployments row (the publisher
-- checks its generation once, at start-up).
CREATE TABLE outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  generation integer NOT NULL,
  topic text NOT NULL,
  payload jsonb NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}'::jsonb,
  idempotency_key text NOT NULL,
  ordering_key text,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'in_flight', 'done', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  available_at timestamptz NOT NULL DEFAULT now(),
  claimed_by text,
  lease_expires_at timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz
);

-- Publishing the same (topic, idempotency key) twice is a no-op.
CREATE UNIQUE INDEX outbox_topic_idempotency_key ON outbox (topic, idempotency_key);

-- The claim index: its predicate is exactly "claimable" minus the time test
-- (now() cannot appear in an index predicate), and available_at is a key
-- column so the time test is an index condition.
CREATE INDEX outbox_claimable ON outbox (generation, id) INCLUDE (available_at, ordering_key)
  WHERE status = 'pending';

-- Ordering keys: "is an earlier event of this key still open?"
CREATE INDEX outbox_open_by_ordering_key ON outbox (generation, ordering_key, id)
  WHERE ordering_key IS NOT NULL AND status IN ('pending', 'in_flight');

-- The reaper and lease extension look only at in-flight rows.
CREATE INDEX outbox_in_flight ON outbox (generation, lease_expires_at)
  WHERE status = 'in_flight';

-- Dead letters are listed and retried per generation.
CREATE INDEX outbox_dead ON outbox (generation, id) WHERE status = 'dead';

-- Housekeeping prunes done rows by age.
CREATE INDEX outbox_done_processed_at ON outbox (processed_at) WHERE status = 'done';
