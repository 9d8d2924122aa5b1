CREATE TABLE t (id bigint PRIMARY KEY, n integer);
INSERT INTO t VALUES (1, 42);
