CREATE TABLE t (id bigint PRIMARY KEY, email text);
INSERT INTO t VALUES (1, NULL);
