CREATE DOMAIN year AS integer CONSTRAINT year_check CHECK (VALUE >= 1901);
CREATE TABLE films (id bigint PRIMARY KEY, released year);
