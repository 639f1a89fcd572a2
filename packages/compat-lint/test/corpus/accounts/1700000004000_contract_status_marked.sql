-- expect: clean
-- compat: breaking (reason: generation 55 reads and writes status_v2 only; 54 drained on 2024-05-02)
ALTER TABLE accounts DROP COLUMN status;
ALTER TABLE accounts RENAME COLUMN status_v2 TO status;
