-- expect: clean
-- Expand: a new enum-typed column beside the text one.
CREATE TYPE account_status AS ENUM ('open', 'frozen', 'closed');
ALTER TABLE accounts ADD COLUMN status_v2 account_status;
