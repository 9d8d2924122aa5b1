CREATE TABLE t (id bigint PRIMARY KEY, qty integer, CONSTRAINT t_qty_check CHECK (qty >= 0));
INSERT INTO t VALUES (1, 0);
