-- expect: clean
REFRESH MATERIALIZED VIEW CONCURRENTLY device_daily;
