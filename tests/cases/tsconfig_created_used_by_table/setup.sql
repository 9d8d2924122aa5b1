-- A dictionary of the database (dictionaries stay unmanaged) with a name
-- that needs quotes, in a schema of its own.
CREATE SCHEMA search;
CREATE TEXT SEARCH DICTIONARY search."My Synonyms" (TEMPLATE = simple, STOPWORDS = english);
