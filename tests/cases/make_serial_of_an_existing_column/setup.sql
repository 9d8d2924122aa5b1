CREATE TABLE ticket (id integer PRIMARY KEY, note text);
INSERT INTO ticket VALUES (1, 'a'), (41, 'b');
