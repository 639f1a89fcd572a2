-- expect: unique-on-existing-column
ALTER TABLE posts ADD CONSTRAINT posts_slug_key UNIQUE (slug);
