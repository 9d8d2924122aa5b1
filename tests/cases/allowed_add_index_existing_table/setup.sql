CREATE TABLE t (id bigint PRIMARY KEY, email text, created_at timestamptz);
INSERT INTO t SELECT g, 'u' || g || '@x', now() FROM generate_series(1, 100) g;
ANALYZE t;
