-- expect: set-not-null
-- A primary key over a new column: NULLs do not collide, but a primary key is NOT NULL,
-- and the previous generation's INSERTs leave record_id NULL.
ALTER TABLE usage_records ADD COLUMN record_id uuid, ADD PRIMARY KEY (record_id);
