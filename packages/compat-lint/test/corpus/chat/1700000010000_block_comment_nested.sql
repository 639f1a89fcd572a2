-- expect: clean
/* outer /* nested */ still a comment: ALTER TABLE messages DROP COLUMN body; */
ALTER TABLE messages ADD COLUMN pinned boolean NOT NULL DEFAULT false;
