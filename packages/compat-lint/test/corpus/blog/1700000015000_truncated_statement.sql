-- expect: syntax-error
ALTER TABLE posts ADD COLUMN summary text
  CHECK (length(summary) <
