-- expect: clean
CREATE TABLE "users" ("id" bigserial primary key, "email" character varying DEFAULT '' NOT NULL, "encrypted_password" character varying DEFAULT '' NOT NULL, "created_at" timestamp(6) NOT NULL, "updated_at" timestamp(6) NOT NULL);
CREATE UNIQUE INDEX "index_users_on_email" ON "users" ("email");
CREATE TABLE "articles" ("id" bigserial primary key, "title" character varying, "user_id" bigint NOT NULL, "created_at" timestamp(6) NOT NULL, "updated_at" timestamp(6) NOT NULL, CONSTRAINT "fk_rails_3d31dad1cc" FOREIGN KEY ("user_id") REFERENCES "users" ("id"));
CREATE INDEX "index_articles_on_user_id" ON "articles" ("user_id");
INSERT INTO "schema_migrations" ("version") VALUES ('20240101000000');
