CREATE TABLE customers (id bigint PRIMARY KEY, name text);
INSERT INTO customers VALUES (1, 'a');
