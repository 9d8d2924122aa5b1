CREATE TABLE t (id bigint PRIMARY KEY, qty integer, updated_at timestamptz);
