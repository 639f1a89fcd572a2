-- Cutover schema, generated from migrations/ by the schema-dump test. Do not edit.

CREATE TABLE deployments (
  generation integer GENERATED ALWAYS AS IDENTITY NOT NULL,
  version text NOT NULL,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT deployments_version_check CHECK (((length(version) >= 1) AND (length(version) <= 200))),
  CONSTRAINT deployments_pkey PRIMARY KEY (generation)
);

CREATE TABLE event_handled (
  handler_name text NOT NULL,
  idempotency_key text NOT NULL,
  event_id bigint NOT NULL,
  generation integer NOT NULL,
  handled_at timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT event_handled_pkey PRIMARY KEY (handler_name, idempotency_key)
);
CREATE INDEX event_handled_handled_at ON event_handled USING btree (handled_at);

CREATE TABLE outbox (
  id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  generation integer NOT NULL,
  topic text NOT NULL,
  payload jsonb NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}'::jsonb,
  idempotency_key text NOT NULL,
  ordering_key text,
  status text NOT NULL DEFAULT 'pending'::text,
  attempts integer NOT NULL DEFAULT 0,
  available_at timestamp with time zone NOT NULL DEFAULT now(),
  claimed_by text,
  lease_expires_at timestamp with time zone,
  last_error text,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  processed_at timestamp with time zone,
  tenant text,
  CONSTRAINT outbox_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'in_flight'::text, 'done'::text, 'dead'::text]))),
  CONSTRAINT outbox_pkey PRIMARY KEY (id)
);
CREATE INDEX outbox_dead ON outbox USING btree (generation, id) WHERE (status = 'dead'::text);
CREATE INDEX outbox_dead_tenant ON outbox USING btree (tenant, generation, id) WHERE ((status = 'dead'::text) AND (tenant IS NOT NULL));
CREATE INDEX outbox_done_processed_at ON outbox USING btree (processed_at) WHERE (status = 'done'::text);
CREATE INDEX outbox_due ON outbox USING btree (generation, available_at, id) WHERE (status = 'pending'::text);
CREATE INDEX outbox_in_flight ON outbox USING btree (generation, lease_expires_at) WHERE (status = 'in_flight'::text);
CREATE INDEX outbox_open_by_ordering_key ON outbox USING btree (generation, ordering_key, id) WHERE ((ordering_key IS NOT NULL) AND (status = ANY (ARRAY['pending'::text, 'in_flight'::text])));
CREATE UNIQUE INDEX outbox_topic_idempotency_key ON outbox USING btree (topic, idempotency_key);

CREATE TABLE workers (
  id text NOT NULL,
  generation integer NOT NULL,
  version text NOT NULL DEFAULT ''::text,
  host text NOT NULL DEFAULT ''::text,
  pid integer,
  status text NOT NULL DEFAULT 'starting'::text,
  started_at timestamp with time zone NOT NULL DEFAULT now(),
  last_seen timestamp with time zone NOT NULL DEFAULT now(),
  info jsonb NOT NULL DEFAULT '{}'::jsonb,
  CONSTRAINT workers_status_check CHECK ((status = ANY (ARRAY['starting'::text, 'running'::text, 'reconnecting'::text, 'draining'::text, 'exited'::text]))),
  CONSTRAINT workers_pkey PRIMARY KEY (id)
);
CREATE INDEX workers_generation_status ON workers USING btree (generation, status);
