CREATE TEXT SEARCH CONFIGURATION "French Plain" (COPY = french);
CREATE TABLE docs (id bigint PRIMARY KEY, body text);
