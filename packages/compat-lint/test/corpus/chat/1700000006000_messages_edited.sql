-- expect: clean
ALTER TABLE messages ADD COLUMN edited_at timestamptz, ADD COLUMN edit_count integer NOT NULL DEFAULT 0;
