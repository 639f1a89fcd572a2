-- expect: drop-column
ALTER TABLE messages ADD COLUMN tmp int;
ALTER TABLE messages DROP COLUMN tmp;
ALTER TABLE messages DROP COLUMN pinned;
