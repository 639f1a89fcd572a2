-- expect: incompatible-type-change
ALTER TABLE contacts ALTER COLUMN tags TYPE text USING array_to_string(tags, ',');
