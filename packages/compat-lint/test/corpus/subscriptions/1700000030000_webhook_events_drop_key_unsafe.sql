-- expect: drop-unique-constraint
-- Old code upserts webhook events ON CONFLICT (event_uuid); without the key that is an error.
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_pkey;
