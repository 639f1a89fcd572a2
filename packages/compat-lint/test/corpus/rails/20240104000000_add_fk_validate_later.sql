-- expect: clean
ALTER TABLE "articles" ADD "editor_id" bigint;
ALTER TABLE "articles" ADD CONSTRAINT "fk_rails_aa11bb22cc" FOREIGN KEY ("editor_id") REFERENCES "users" ("id") ON DELETE SET NULL NOT VALID;
ALTER TABLE "articles" VALIDATE CONSTRAINT "fk_rails_aa11bb22cc";
