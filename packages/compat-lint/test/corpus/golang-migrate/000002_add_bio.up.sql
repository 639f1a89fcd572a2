-- expect: clean
ALTER TABLE users ADD COLUMN bio TEXT;
