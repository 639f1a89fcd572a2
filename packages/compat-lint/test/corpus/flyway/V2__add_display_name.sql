-- expect: clean
ALTER TABLE account ADD COLUMN display_name TEXT;
