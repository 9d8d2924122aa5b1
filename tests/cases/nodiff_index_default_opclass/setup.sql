-- Index keys that name their type's default operator class, which
-- PostgreSQL does not print back.
CREATE TABLE doc (id int PRIMARY KEY, name text, body jsonb, code varchar(10));
CREATE INDEX doc_name_idx ON doc (name text_ops);
CREATE INDEX doc_body_idx ON doc USING gin (body jsonb_ops);
CREATE INDEX doc_code_idx ON doc (code varchar_pattern_ops);
