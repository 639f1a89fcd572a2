-- expect: clean
-- battery was always nullable: dropping NOT NULL is a no-op
ALTER TABLE devices ALTER COLUMN battery DROP NOT NULL;
