-- expect: clean
CREATE TABLE companies (id bigserial PRIMARY KEY, name text NOT NULL, domain text);
CREATE TABLE contacts (
  id bigserial PRIMARY KEY,
  company_id bigint REFERENCES companies (id),
  first_name text NOT NULL,
  last_name text NOT NULL,
  email text,
  score integer NOT NULL DEFAULT 0,
  tags text[] NOT NULL DEFAULT '{}'
);
