-- Settings of managed objects that the format does not carry: listed, never lost without a word.
CREATE UNLOGGED TABLE t (id int PRIMARY KEY, b text) WITH (fillfactor = 70);
ALTER TABLE t ALTER COLUMN b SET STORAGE EXTERNAL;
ALTER TABLE t ALTER COLUMN b SET STATISTICS 500;
CREATE INDEX ti ON t (b) WITH (fillfactor = 50);
ALTER TABLE t REPLICA IDENTITY FULL;
ALTER TABLE t ADD CONSTRAINT c1 CHECK (id > 0);
COMMENT ON CONSTRAINT c1 ON t IS 'positive';
