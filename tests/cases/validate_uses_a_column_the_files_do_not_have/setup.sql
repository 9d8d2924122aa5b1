CREATE TABLE t (id bigint PRIMARY KEY, legacy integer);
