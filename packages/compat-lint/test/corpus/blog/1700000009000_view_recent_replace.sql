-- expect: clean
CREATE OR REPLACE VIEW recent_posts AS
  SELECT id, slug, title, published_at FROM posts WHERE published_at > now() - interval '30 days';
