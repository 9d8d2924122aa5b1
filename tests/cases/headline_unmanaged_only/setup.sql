CREATE TABLE t (id bigint PRIMARY KEY); CREATE TABLE stray (a int);
