-- expect: drop-default
BEGIN;
--
-- Add field views to question
--
ALTER TABLE "polls_question" ADD COLUMN "views" integer DEFAULT 0 NOT NULL CHECK ("views" >= 0);
ALTER TABLE "polls_question" ALTER COLUMN "views" DROP DEFAULT;
COMMIT;
