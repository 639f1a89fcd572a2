-- expect: clean
CREATE FUNCTION event_day(ts timestamptz) RETURNS date LANGUAGE sql IMMUTABLE AS 'SELECT ts::date';
CREATE VIEW daily_events AS SELECT event_day(occurred_at) AS day, count(*) FROM events GROUP BY 1;
