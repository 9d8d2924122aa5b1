CREATE TYPE status AS ENUM ('pending', 'done');
CREATE TABLE t (id bigint PRIMARY KEY, status status NOT NULL DEFAULT 'pending');
