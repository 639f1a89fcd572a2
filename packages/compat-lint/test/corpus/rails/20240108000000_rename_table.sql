-- expect: rename-table
ALTER TABLE "articles" RENAME TO "posts";
ALTER SEQUENCE "articles_id_seq" RENAME TO "posts_id_seq";
ALTER INDEX "index_articles_on_user_id" RENAME TO "index_posts_on_user_id";
