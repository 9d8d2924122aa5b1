CREATE TYPE status AS ENUM ('pending', 'done');
CREATE TABLE t (id bigint PRIMARY KEY, abc integer, label text, status status);
INSERT INTO t VALUES (1, 1, 'x', 'pending');
