-- expect: drop-view
DROP MATERIALIZED VIEW device_daily;
