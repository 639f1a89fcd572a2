-- expect: drop-column
ALTER TABLE users DROP COLUMN email;
