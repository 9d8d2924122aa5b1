CREATE TABLE t (id bigint PRIMARY KEY, amount numeric(10), cents decimal(12));
