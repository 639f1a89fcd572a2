-- expect: clean
-- Up Migration
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TABLE events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  properties json,
  occurred_at timestamptz(3) NOT NULL
);
-- Down Migration
DROP TABLE events;
