CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);
INSERT INTO orders VALUES (1, 9.5);
