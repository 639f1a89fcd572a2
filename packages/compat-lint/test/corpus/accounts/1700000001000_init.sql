-- expect: clean
CREATE TABLE accounts (
  id bigint PRIMARY KEY,
  owner text NOT NULL,
  balance_cents bigint NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'open',
  closed_at timestamptz
);
CREATE TABLE transfers (
  id bigint PRIMARY KEY,
  from_account bigint NOT NULL,
  to_account bigint NOT NULL,
  amount_cents bigint NOT NULL
);
