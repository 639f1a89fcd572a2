-- expect: clean
SELECT pg_catalog.set_config('search_path', '', false);
ALTER TABLE ONLY app.orders ADD COLUMN note text;
CREATE INDEX CONCURRENTLY orders_status_idx ON app.orders USING btree (status);
