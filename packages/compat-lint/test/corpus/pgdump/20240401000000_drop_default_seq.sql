-- expect: drop-default
ALTER TABLE ONLY app.orders ALTER COLUMN id DROP DEFAULT;
