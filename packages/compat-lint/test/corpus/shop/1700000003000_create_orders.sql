-- expect: clean
-- Up Migration
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled');
CREATE TABLE orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  status order_status NOT NULL DEFAULT 'pending',
  total numeric(12,2) NOT NULL,
  placed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_id ON orders (user_id);
-- Down Migration
DROP TABLE orders;
DROP TYPE order_status;
