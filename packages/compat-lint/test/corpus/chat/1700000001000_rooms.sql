-- expect: clean
-- Up Migration
CREATE TABLE "räume" (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "naïve_name" text NOT NULL,
  "説明" text
);
CREATE TABLE messages (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  room_id bigint NOT NULL REFERENCES "räume" (id),
  body text NOT NULL,
  sent_at timestamptz NOT NULL DEFAULT now()
);
-- Down Migration
DROP TABLE messages;
DROP TABLE "räume";
