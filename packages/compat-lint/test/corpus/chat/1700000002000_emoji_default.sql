-- expect: clean
ALTER TABLE messages ADD COLUMN reaction text NOT NULL DEFAULT '👍';
