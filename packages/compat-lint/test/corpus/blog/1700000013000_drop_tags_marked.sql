-- expect: clean
-- compat: breaking (reason: tags were never shipped to production; no generation reads them)
DROP TABLE post_tags;
DROP TABLE tags;
