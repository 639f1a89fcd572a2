-- expect: incompatible-type-change
ALTER TABLE comments ALTER COLUMN body TYPE jsonb USING to_jsonb(body);
