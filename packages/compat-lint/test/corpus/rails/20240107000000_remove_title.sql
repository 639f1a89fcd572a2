-- expect: drop-column
ALTER TABLE "articles" DROP COLUMN "title";
