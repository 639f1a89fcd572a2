-- expect: clean
-- compat: breaking (reason: employee numbers are allocated by a sequence in every generation since v3)
CREATE UNIQUE INDEX CONCURRENTLY employees_no_key2 ON employees (employee_no, hired_on);
