CREATE TABLE t (id bigint NOT NULL, name text);
INSERT INTO t VALUES (1, 'a');
