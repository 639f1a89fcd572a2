-- expect: clean
CREATE TABLE tags (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE post_tags (post_id int REFERENCES posts, tag_id int REFERENCES tags, PRIMARY KEY (post_id, tag_id));
