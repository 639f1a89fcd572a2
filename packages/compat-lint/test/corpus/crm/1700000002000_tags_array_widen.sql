-- expect: clean
ALTER TABLE contacts ADD COLUMN aliases varchar(50)[];
