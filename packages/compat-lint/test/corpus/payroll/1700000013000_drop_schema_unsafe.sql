-- expect: drop-schema
DROP SCHEMA IF EXISTS reporting CASCADE;
