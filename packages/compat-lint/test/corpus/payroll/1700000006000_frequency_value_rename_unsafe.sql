-- expect: rename-enum-value
ALTER TYPE pay_frequency RENAME VALUE 'biweekly' TO 'fortnightly';
