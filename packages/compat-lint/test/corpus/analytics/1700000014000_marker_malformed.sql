-- expect: invalid-directive
-- compat: breaking because we said so
ALTER TABLE events ADD COLUMN note text;
