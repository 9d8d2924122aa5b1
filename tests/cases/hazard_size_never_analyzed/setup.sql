-- Bulk-loaded and never analyzed (autovacuum has not run yet): pg_class.reltuples
-- is -1 and relpages 0, but the table holds ~4 MB.
CREATE TABLE t (id bigint PRIMARY KEY, email text);
INSERT INTO t SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 50000) g;
