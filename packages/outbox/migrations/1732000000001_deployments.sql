-- Up Migration
-- One row per deploy. The generation is allocated by the database in the
-- same statement that records the deploy (INSERT ... RETURNING generation),
-- so two deploys racing each other can never get the same number.
CREATE TABLE deployments (
  generation integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  version text NOT NULL CHECK (length(version) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
);
