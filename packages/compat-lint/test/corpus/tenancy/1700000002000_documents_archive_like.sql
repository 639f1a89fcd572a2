-- expect: clean
CREATE TABLE documents_archive (LIKE documents INCLUDING ALL);
