CREATE TYPE address AS (street text, city text);
CREATE TABLE people (id bigint PRIMARY KEY, home address);
INSERT INTO people VALUES (1, ROW('Main St', 'Springfield'));
