-- expect: unique-on-existing-column
CREATE UNIQUE INDEX CONCURRENTLY products_title_key ON products (title);
