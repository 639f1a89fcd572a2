-- Up Migration
-- Exactly-once effects: a handler's transaction first inserts its
-- (handler_name, idempotency_key) row; a conflict means it already ran.
-- handler_name is scope-qualified (billing.charge-card) so scopes never collide.
CREATE TABLE event_handled (
  handler_name text NOT NULL,
  idempotency_key text NOT NULL,
  event_id bigint NOT NULL,
  generation integer NOT NULL,
  handled_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (handler_name, idempotency_key)
);

CREATE INDEX event_handled_handled_at ON event_handled (handled_at);
