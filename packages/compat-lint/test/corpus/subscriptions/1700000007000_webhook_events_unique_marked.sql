-- expect: clean
-- compat: breaking (reason: every generation since 12 upserts webhook events ON CONFLICT (event_uuid))
CREATE UNIQUE INDEX CONCURRENTLY webhook_events_uuid_key ON webhook_events (event_uuid);
