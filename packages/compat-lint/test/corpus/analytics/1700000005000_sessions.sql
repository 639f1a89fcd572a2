-- expect: clean
CREATE TABLE sessions (id uuid PRIMARY KEY, started_at timestamptz NOT NULL, user_agent text);
ALTER TABLE events ADD COLUMN session_id uuid REFERENCES sessions (id);
