-- expect: clean
CREATE VIEW recent_posts AS
  SELECT id, slug, title FROM posts WHERE published_at > now() - interval '30 days';
