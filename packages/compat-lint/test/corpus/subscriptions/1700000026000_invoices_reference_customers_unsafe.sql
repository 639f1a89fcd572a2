-- expect: clean
-- Old code that deletes a customer the new generation has invoiced now fails (23503).
CREATE TABLE invoices (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id),
  total_cents bigint NOT NULL
);
