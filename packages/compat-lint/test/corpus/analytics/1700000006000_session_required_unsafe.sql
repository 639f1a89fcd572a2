-- expect: add-required-column
ALTER TABLE sessions ADD COLUMN tenant text NOT NULL;
