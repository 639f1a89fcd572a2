-- expect: clean
ALTER TABLE "articles" ADD "published" boolean DEFAULT FALSE NOT NULL;
ALTER TABLE "articles" ADD "body" text;
