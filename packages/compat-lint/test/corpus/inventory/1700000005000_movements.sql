-- expect: clean
CREATE TABLE movements (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  warehouse char(4) NOT NULL,
  sku text NOT NULL,
  delta integer NOT NULL,
  reason text,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
);
ALTER TABLE movements ADD FOREIGN KEY (warehouse, sku) REFERENCES stock_levels (warehouse, sku);
CREATE INDEX movements_at ON movements (at);
