-- expect: clean
BEGIN;
--
-- Add field slug to question
--
ALTER TABLE "polls_question" ADD COLUMN "slug" varchar(50) NULL;
CREATE INDEX "polls_question_slug_a1b2c3d4" ON "polls_question" ("slug");
CREATE INDEX "polls_question_slug_a1b2c3d4_like" ON "polls_question" ("slug" varchar_pattern_ops);
COMMIT;
