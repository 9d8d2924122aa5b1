CREATE TABLE accounts (id bigint PRIMARY KEY);
CREATE TABLE t (id bigint PRIMARY KEY, email text, qty integer, account_id bigint);
INSERT INTO accounts VALUES (1);
INSERT INTO t VALUES (1, 'a@x', 1, 1);
