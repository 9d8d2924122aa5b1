CREATE TABLE t (id bigint PRIMARY KEY, status text NOT NULL DEFAULT 'new', n integer DEFAULT 1, note text);
