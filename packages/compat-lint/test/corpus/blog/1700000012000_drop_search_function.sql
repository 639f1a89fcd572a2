-- expect: drop-function
DROP FUNCTION post_search_text(posts);
