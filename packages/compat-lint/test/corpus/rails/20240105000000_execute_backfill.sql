-- expect: clean
UPDATE articles SET body = '' WHERE body IS NULL;
