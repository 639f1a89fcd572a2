-- expect: drop-default
ALTER TABLE devices ALTER COLUMN registered_at DROP DEFAULT;
