-- expect: set-not-null
ALTER TABLE "articles" ALTER COLUMN "body" SET NOT NULL;
