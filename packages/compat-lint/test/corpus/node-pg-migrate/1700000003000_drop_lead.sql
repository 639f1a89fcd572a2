-- expect: drop-column
-- Up Migration
ALTER TABLE "posts"
  DROP "lead";

-- Down Migration
ALTER TABLE "posts"
  ADD "lead" text;
