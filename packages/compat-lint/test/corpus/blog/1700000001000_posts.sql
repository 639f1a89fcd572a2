-- expect: clean
CREATE TABLE posts (
  id serial PRIMARY KEY,
  slug varchar(120) NOT NULL,
  title text NOT NULL,
  body text NOT NULL DEFAULT '',
  published_at timestamp
);
CREATE TABLE comments (
  id serial PRIMARY KEY,
  post_id integer NOT NULL REFERENCES posts (id),
  author text,
  body text NOT NULL
);
