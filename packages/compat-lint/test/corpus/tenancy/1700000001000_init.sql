-- expect: clean
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE accounts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email citext NOT NULL,
  name varchar(80),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE documents (id bigint PRIMARY KEY, account_id bigint NOT NULL, title varchar(100) NOT NULL, body text);
CREATE TABLE audit_events (id bigint NOT NULL, happened_on date NOT NULL, detail text) PARTITION BY RANGE (happened_on);
CREATE TABLE audit_events_2025 PARTITION OF audit_events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE audit_events_2026 PARTITION OF audit_events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE VIEW account_directory AS SELECT a.id, a.email, a.name FROM accounts a;
CREATE FUNCTION new_slug() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN md5(random()::text); END $$;
