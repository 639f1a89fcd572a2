-- expect: clean
--
-- Concurrently create index polls_quest_pub_dat_idx on field(s) pub_date of model question
--
CREATE INDEX CONCURRENTLY "polls_quest_pub_dat_idx" ON "polls_question" ("pub_date");
