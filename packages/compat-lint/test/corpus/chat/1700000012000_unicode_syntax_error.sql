-- expect: syntax-error
SELECT 'größe' FROM messages WHER id = 1 AND;
