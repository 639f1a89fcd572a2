-- expect: incompatible-type-change
ALTER TABLE employees ALTER COLUMN salary TYPE money_amount;
