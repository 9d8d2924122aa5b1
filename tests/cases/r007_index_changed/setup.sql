CREATE TABLE t (id bigint PRIMARY KEY, a text, b text, deleted boolean);
CREATE INDEX t_a_idx ON t (a);
CREATE INDEX t_b_idx ON t (b);
