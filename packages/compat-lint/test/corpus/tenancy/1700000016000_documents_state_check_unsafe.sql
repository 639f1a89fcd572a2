-- expect: check-on-existing-column
-- Old INSERTs leave both new columns NULL: num_nonnulls is 0, never 1.
ALTER TABLE documents ADD COLUMN published_at timestamptz, ADD COLUMN draft_of bigint;
ALTER TABLE documents ADD CONSTRAINT documents_one_state CHECK (num_nonnulls(published_at, draft_of) = 1) NOT VALID;
