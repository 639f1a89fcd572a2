-- expect: clean
ALTER TABLE transfers ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
