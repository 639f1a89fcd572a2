-- expect: unique-on-existing-column
BEGIN;
--
-- Alter field slug on question
--
ALTER TABLE "polls_question" ADD CONSTRAINT "polls_question_slug_a1b2c3d4_uniq" UNIQUE ("slug");
COMMIT;
