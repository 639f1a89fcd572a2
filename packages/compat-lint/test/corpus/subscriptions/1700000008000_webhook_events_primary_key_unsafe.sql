-- expect: set-not-null
-- Attaching the index as the primary key also makes event_uuid NOT NULL, which
-- the unique index did not: old code that inserts events without one starts failing.
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_pkey PRIMARY KEY USING INDEX webhook_events_uuid_key;
