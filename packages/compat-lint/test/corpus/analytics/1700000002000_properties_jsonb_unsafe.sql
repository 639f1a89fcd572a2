-- expect: incompatible-type-change
ALTER TABLE events ALTER COLUMN properties TYPE jsonb;
