-- expect: clean
CREATE OR REPLACE FUNCTION event_day(ts timestamptz) RETURNS date LANGUAGE sql IMMUTABLE AS 'SELECT (ts AT TIME ZONE ''UTC'')::date';
