CREATE TABLE t (id int PRIMARY KEY, n int, CONSTRAINT t_n_check CHECK (n > 0) NO INHERIT, CONSTRAINT t_id_check CHECK (id > 0));
