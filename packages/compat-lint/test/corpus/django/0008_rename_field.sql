-- expect: rename-column
BEGIN;
--
-- Rename field votes on choice to vote_count
--
ALTER TABLE "polls_choice" RENAME COLUMN "votes" TO "vote_count";
COMMIT;
