CREATE TEXT SEARCH CONFIGURATION english_nostop (PARSER = default);
ALTER TEXT SEARCH CONFIGURATION english_nostop ADD MAPPING FOR asciiword, word WITH english_stem;
CREATE TABLE docs (id bigint PRIMARY KEY, body text);
CREATE INDEX docs_fts ON docs USING gin (to_tsvector('english_nostop', body));
