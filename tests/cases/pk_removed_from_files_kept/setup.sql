CREATE TABLE d (id bigint PRIMARY KEY, name text);
