-- expect: drop-column
ALTER TABLE "posts" DROP COLUMN IF EXISTS "subtitle";
