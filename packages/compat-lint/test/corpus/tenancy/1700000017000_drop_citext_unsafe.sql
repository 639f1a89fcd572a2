-- expect: drop-extension
-- CASCADE drops accounts.email (of type citext) and every view that selects it.
DROP EXTENSION citext CASCADE;
