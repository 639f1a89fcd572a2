-- expect: clean
ALTER TYPE pay_frequency ADD VALUE 'daily' BEFORE 'weekly';
