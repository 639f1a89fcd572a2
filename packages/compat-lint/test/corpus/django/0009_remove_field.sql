-- expect: drop-column
BEGIN;
--
-- Remove field slug from question
--
ALTER TABLE "polls_question" DROP COLUMN "slug" CASCADE;
COMMIT;
