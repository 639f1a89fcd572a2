-- expect: clean
-- Up Migration
CREATE TABLE deployments (
  generation integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  version text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
