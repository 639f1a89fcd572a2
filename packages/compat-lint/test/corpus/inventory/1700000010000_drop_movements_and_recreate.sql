-- expect: drop-table
DROP TABLE movements;
CREATE TABLE movements (id bigint PRIMARY KEY);
