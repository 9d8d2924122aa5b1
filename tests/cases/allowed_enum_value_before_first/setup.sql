CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE color AS ENUM ('red', 'green', 'blue');
CREATE TABLE t (id bigint PRIMARY KEY, m mood, c color);
