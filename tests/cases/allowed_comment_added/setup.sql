CREATE TABLE t (id bigint PRIMARY KEY, notes text);
