CREATE TABLE t (id bigint PRIMARY KEY, name text NOT NULL);
INSERT INTO t SELECT g, 'n' || g FROM generate_series(1, 1000) g;
ANALYZE t;
