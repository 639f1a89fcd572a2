-- expect: clean
-- Up Migration
CREATE INDEX CONCURRENTLY "posts_created_at_index" ON "posts" ("created_at");

-- Down Migration
DROP INDEX CONCURRENTLY "posts_created_at_index";
