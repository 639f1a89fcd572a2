-- expect: clean
-- Up Migration
CREATE SCHEMA app;
SET search_path TO app, public;
CREATE TABLE tenants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug text NOT NULL,
  plan text NOT NULL DEFAULT 'free',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);
-- Down Migration
DROP SCHEMA app CASCADE;
