-- expect: drop-function
DROP FUNCTION IF EXISTS event_day(timestamptz) CASCADE;
