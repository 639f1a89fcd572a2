-- expect: drop-view
DROP VIEW recent_posts;
