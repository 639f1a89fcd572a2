-- expect: rename-schema
ALTER SCHEMA app RENAME TO core;
