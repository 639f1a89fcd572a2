-- expect: clean
CREATE SCHEMA billing;
SET search_path = billing, public;
CREATE TABLE ledger_entries (id bigint PRIMARY KEY, amount_cents bigint NOT NULL);
