-- expect: clean
-- Lock warnings only: a VOLATILE function default and a USING expression rewrite documents.
ALTER TABLE documents ADD COLUMN slug text DEFAULT new_slug();
ALTER TABLE documents ALTER COLUMN title TYPE text USING btrim(title);
