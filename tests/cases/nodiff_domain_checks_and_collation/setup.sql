-- Domain checks that PostgreSQL prints otherwise than they are written, and
-- domain collations: given in the files, or left out (the database's stays).
CREATE DOMAIN percent AS numeric(5,2) CONSTRAINT percent_range CHECK (VALUE BETWEEN 0 AND 100);
CREATE DOMAIN us_zip AS varchar(10) COLLATE "C" CHECK (VALUE ~ '^\d{5}(-\d{4})?$');
CREATE DOMAIN code AS text COLLATE "C" DEFAULT 'x' CHECK (VALUE IN ('x', 'y'));
CREATE TABLE build (id int PRIMARY KEY, share percent, zip us_zip, c code);
