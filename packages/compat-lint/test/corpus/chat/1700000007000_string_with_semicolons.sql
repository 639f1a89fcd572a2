-- expect: clean
INSERT INTO messages (room_id, body) VALUES (1, 'hello; DROP TABLE messages; -- not a statement');
COMMENT ON TABLE messages IS 'one row per message; -- compat: breaking is not a marker in a string';
