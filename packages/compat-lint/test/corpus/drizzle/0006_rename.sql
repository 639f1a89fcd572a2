-- expect: rename-column
ALTER TABLE "comments" RENAME COLUMN "body" TO "content";
