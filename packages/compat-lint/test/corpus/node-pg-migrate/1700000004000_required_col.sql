-- expect: add-required-column
-- Up Migration
ALTER TABLE "users"
  ADD "email" text NOT NULL;

-- Down Migration
ALTER TABLE "users"
  DROP "email";
