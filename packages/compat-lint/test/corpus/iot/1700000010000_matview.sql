-- expect: clean
CREATE MATERIALIZED VIEW device_daily AS
  SELECT device_id, date_trunc('day', at) AS day, avg(value) AS avg_value FROM readings GROUP BY 1, 2;
CREATE UNIQUE INDEX device_daily_key ON device_daily (device_id, day);
