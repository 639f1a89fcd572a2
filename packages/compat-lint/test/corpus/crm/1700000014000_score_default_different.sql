-- expect: change-default
ALTER TABLE contacts ALTER COLUMN score SET DEFAULT 10;
