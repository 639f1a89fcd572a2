-- expect: clean
-- Up Migration
ALTER TABLE "posts"
  ADD "lead" text;
COMMENT ON COLUMN "posts"."lead" IS 'short summary';

-- Down Migration
ALTER TABLE "posts"
  DROP "lead";
