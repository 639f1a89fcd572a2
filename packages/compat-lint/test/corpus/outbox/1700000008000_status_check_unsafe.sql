-- expect: check-on-existing-column
ALTER TABLE outbox ADD CONSTRAINT outbox_status_known
  CHECK (status IN ('pending', 'in_flight', 'done', 'dead'));
