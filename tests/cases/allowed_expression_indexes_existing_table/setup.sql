CREATE TABLE t (id bigint PRIMARY KEY, data jsonb, a text, b text, ts timestamp);
