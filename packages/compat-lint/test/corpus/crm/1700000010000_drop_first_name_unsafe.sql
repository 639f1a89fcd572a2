-- expect: drop-column
ALTER TABLE contacts DROP COLUMN first_name CASCADE;
