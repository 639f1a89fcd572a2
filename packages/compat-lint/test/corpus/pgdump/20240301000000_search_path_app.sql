-- expect: drop-column
SELECT pg_catalog.set_config('search_path', 'app', false);
ALTER TABLE orders DROP COLUMN note;
