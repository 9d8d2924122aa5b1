CREATE TYPE address AS (street text, zip integer);
CREATE TABLE people (id bigint PRIMARY KEY, home address);
