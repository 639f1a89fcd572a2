-- expect: clean
ALTER TABLE outbox ADD COLUMN trace_id uuid DEFAULT gen_random_uuid();
