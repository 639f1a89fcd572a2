-- expect: clean
CREATE INDEX CONCURRENTLY "index_articles_on_title" ON "articles" ("title");
