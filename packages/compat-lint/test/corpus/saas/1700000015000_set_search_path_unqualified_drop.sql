-- expect: drop-table
SET search_path TO app;
DROP TABLE audit_log;
