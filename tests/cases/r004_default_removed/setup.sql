CREATE TABLE t (id bigint PRIMARY KEY, status text DEFAULT 'new');
INSERT INTO t VALUES (1, 'new');
