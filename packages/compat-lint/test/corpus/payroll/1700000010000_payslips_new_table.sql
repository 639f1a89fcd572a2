-- expect: clean
CREATE TABLE payslips (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  employee_id integer NOT NULL REFERENCES employees (id),
  period daterange NOT NULL,
  gross numeric(12,2) NOT NULL,
  EXCLUDE USING gist (employee_id WITH =, period WITH &&)
);
