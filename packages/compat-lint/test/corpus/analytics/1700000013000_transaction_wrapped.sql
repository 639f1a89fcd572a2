-- expect: drop-column
BEGIN;
ALTER TABLE events ADD COLUMN source text;
ALTER TABLE events DROP COLUMN session_id;
COMMIT;
