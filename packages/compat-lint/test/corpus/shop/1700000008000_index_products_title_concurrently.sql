-- expect: clean
CREATE INDEX CONCURRENTLY products_title ON products (title);
