-- expect: unique-on-existing-column
-- Even concurrently built, the constraint changes what old writers may insert.
CREATE UNIQUE INDEX CONCURRENTLY employees_employee_no_key ON employees (employee_no);
ALTER TABLE employees ADD CONSTRAINT employees_employee_no_key UNIQUE USING INDEX employees_employee_no_key;
