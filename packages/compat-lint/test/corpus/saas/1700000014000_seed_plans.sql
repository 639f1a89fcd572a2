-- expect: clean
BEGIN;
INSERT INTO app.tenants (slug, plan, region) VALUES ('acme', 'pro', 'eu') ON CONFLICT DO NOTHING;
COMMIT;
