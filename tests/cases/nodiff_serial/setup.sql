CREATE TABLE t (id serial PRIMARY KEY, big bigserial, small smallserial, n integer);
CREATE TABLE u (id bigserial PRIMARY KEY, t_id integer REFERENCES t (id));
INSERT INTO t (n) VALUES (1);
