-- expect: rename-column
ALTER TABLE "photo" RENAME COLUMN "url" TO "src";
