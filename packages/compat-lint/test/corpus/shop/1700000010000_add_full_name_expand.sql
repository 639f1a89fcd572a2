-- expect: clean
-- Expand step of the rename: a new column both generations can live with.
ALTER TABLE users ADD COLUMN full_name varchar(100);
UPDATE users SET full_name = name WHERE full_name IS NULL;
