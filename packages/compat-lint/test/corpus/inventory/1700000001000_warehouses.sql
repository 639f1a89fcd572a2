-- expect: clean
CREATE TABLE warehouses (
  code char(4) PRIMARY KEY,
  city text NOT NULL
);
CREATE TABLE stock_levels (
  warehouse char(4) NOT NULL REFERENCES warehouses,
  sku text NOT NULL,
  quantity integer NOT NULL DEFAULT 0,
  reserved integer NOT NULL DEFAULT 0,
  PRIMARY KEY (warehouse, sku)
);
