CREATE TABLE doc (id int PRIMARY KEY, code varchar(10));
CREATE INDEX doc_code_idx ON doc (code);
