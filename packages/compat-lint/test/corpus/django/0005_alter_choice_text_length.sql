-- expect: clean
BEGIN;
--
-- Alter field choice_text on choice
--
ALTER TABLE "polls_choice" ALTER COLUMN "choice_text" TYPE varchar(500);
COMMIT;
