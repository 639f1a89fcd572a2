-- expect: clean
ALTER TABLE devices ALTER COLUMN firmware TYPE varchar(64);
