CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE t (id bigint PRIMARY KEY, m mood);
