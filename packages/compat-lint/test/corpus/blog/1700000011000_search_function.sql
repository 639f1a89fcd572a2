-- expect: clean
CREATE FUNCTION post_search_text(p posts) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
  -- a comment inside a function body is not a directive: compat: breaking
  SELECT p.title || ' ' || p.body
$fn$;
