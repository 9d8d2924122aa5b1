CREATE TABLE t (id bigint PRIMARY KEY, price numeric, qty integer);
INSERT INTO t SELECT g, g, g FROM generate_series(1, 1000) g;
ANALYZE t;
