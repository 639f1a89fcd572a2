-- Up Migration
-- One row per worker process, so a stalled or reconnecting consumer is
-- visible from any other process (workers have no HTTP surface of their own).
CREATE TABLE workers (
  id text PRIMARY KEY,
  generation integer NOT NULL,
  version text NOT NULL DEFAULT '',
  host text NOT NULL DEFAULT '',
  pid integer,
  status text NOT NULL DEFAULT 'starting'
    CHECK (status IN ('starting', 'running', 'reconnecting', 'draining', 'exited')),
  started_at timestamptz NOT NULL DEFAULT now(),
  last_seen timestamptz NOT NULL DEFAULT now(),
  info jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX workers_generation_status ON workers (generation, status);
