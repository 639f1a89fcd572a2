-- expect: clean
-- compat: breaking (reason: every generation since 30 writes region; backfilled in 1700000006000)
ALTER TABLE app.tenants ALTER COLUMN region SET DEFAULT 'eu';
ALTER TABLE app.tenants ALTER COLUMN region SET NOT NULL;
