-- A serial whose sequence was given other options: a sequence of its own
-- (with its options) and a nextval default, not a plain serial.
CREATE TABLE t (id serial PRIMARY KEY, n int);
ALTER SEQUENCE t_id_seq START 1000 INCREMENT 5;
