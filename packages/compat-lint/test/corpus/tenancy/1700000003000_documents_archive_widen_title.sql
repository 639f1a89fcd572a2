-- expect: clean
-- The LIKE copy has documents' columns: title is varchar(100), so this is a widening.
ALTER TABLE documents_archive ALTER COLUMN title TYPE varchar(200);
