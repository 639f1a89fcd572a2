-- expect: clean
-- Up Migration
CREATE TABLE outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  generation integer NOT NULL,
  topic text NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0
);
CREATE INDEX outbox_claimable ON outbox (generation, id) WHERE status = 'pending';
