-- expect: drop-column, rename-column
ALTER TABLE employees ADD COLUMN nickname text, DROP COLUMN hired_on;
ALTER TABLE employees RENAME COLUMN employee_no TO staff_no;
